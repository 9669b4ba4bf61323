"""Contact sheets: images in a labelled grid, for comparing looks side by side."""

from __future__ import annotations

import numpy as np

__all__ = ["contact_sheet"]

_MARGIN = 16
_LABEL_HEIGHT = 28
_BACKGROUND = (24, 24, 24)
_TEXT = (230, 230, 230)


def _font(size: int):
    from PIL import ImageFont  # lazy: PIL (~25 ms)

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()


def contact_sheet(rows: list[list[tuple[str, np.ndarray]]], *, cell_width: int = 360, title: str = ""):
    """A PIL image laying out ``rows`` of ``(label, image)`` cells; images are display-encoded floats in [0, 1].

    Each image is scaled to ``cell_width`` keeping its aspect ratio; the label is written under it.
    """
    from PIL import Image, ImageDraw  # lazy: PIL (~30 ms)

    def thumbnail(image: np.ndarray) -> Image.Image:
        pil = Image.fromarray(np.clip(np.rint(image * 255), 0, 255).astype(np.uint8))
        height = max(1, round(pil.height * cell_width / pil.width))
        return pil.resize((cell_width, height), Image.Resampling.LANCZOS)

    thumbs = [[(label, thumbnail(image)) for label, image in row] for row in rows]
    columns = max(len(row) for row in thumbs)
    row_heights = [max(t.height for _, t in row) + _LABEL_HEIGHT for row in thumbs]
    top = _LABEL_HEIGHT + _MARGIN if title else _MARGIN
    width = _MARGIN + columns * (cell_width + _MARGIN)
    height = top + sum(h + _MARGIN for h in row_heights)
    sheet = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((_MARGIN, _MARGIN // 2), title, fill=_TEXT, font=_font(20))
    y = top
    for row, row_height in zip(thumbs, row_heights):
        for i, (label, thumb) in enumerate(row):
            x = _MARGIN + i * (cell_width + _MARGIN)
            sheet.paste(thumb, (x, y))
            draw.text((x, y + thumb.height + 6), label, fill=_TEXT, font=_font(15))
        y += row_height + _MARGIN
    return sheet
