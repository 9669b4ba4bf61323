"""``lumatune demo``: the virtual camera makes raws, lumatune develops them in every built-in look.

No input is needed. Two DNGs are made with the project's own DNG writer (a ColorChecker chart and a lively
natural-looking scene), developed in every built-in look, and written as JPEGs with a contact sheet and an
``index.html`` that shows them.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

from lumatune.api import develop, open_raw, save
from lumatune.config.look import builtin_looks, load_look
from lumatune.errors import OutputError
from lumatune.io.atomic import atomic_output
from lumatune.io.sheet import contact_sheet

__all__ = ["run_demo", "DEMO_SCENES"]

#: (scene, illuminant, size) of each demo raw; about 1.5 MP each so the demo takes seconds, not minutes.
DEMO_SCENES = (
    ("natural", "D65", (1500, 1000)),
    ("colorchecker", "D50", (1200, 800)),
)


_SHEET_COLUMNS = 3


def _write_atomic_text(path: Path, text: str, overwrite: bool) -> None:
    with atomic_output(path, overwrite=overwrite) as temp:
        Path(temp).write_text(text, encoding="utf-8")


def run_demo(folder: Path, *, overwrite: bool = True) -> Path:
    """Make the demo raws, develop them in every look, write images, a contact sheet and index.html."""
    from lumatune.sim import simulate, write_sim  # lazy: the virtual camera imports cv2 and tifffile (~60 ms)

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{folder}: cannot create the demo folder ({error.strerror})") from None
    looks = [load_look(name) for name in _look_order(builtin_looks())]
    rows, sections = [], []
    start = time.perf_counter()
    for scene, illuminant, size in DEMO_SCENES:
        dng_path, _truth = write_sim(
            folder / f"{scene}.dng", simulate(scene, illuminant=illuminant, size=size, seed=1), overwrite=overwrite
        )
        raw = open_raw(dng_path)
        row, cells = [], []
        for look in looks:
            image = develop(raw, look)
            name = f"{scene}-{look.name}.jpg"
            save(image, folder / name, quality=92, exif={**raw.exif, "software": "lumatune demo"}, overwrite=overwrite)
            row.append((f"{scene} / {look.name}", image))
            cells.append((look, name))
        rows.extend(row[i : i + _SHEET_COLUMNS] for i in range(0, len(row), _SHEET_COLUMNS))
        sections.append((scene, illuminant, dng_path.name, cells))
    sheet = contact_sheet(rows, title="lumatune demo: every built-in look on the virtual camera's raws")
    sheet_path = folder / "contact-sheet.jpg"
    with atomic_output(sheet_path, overwrite=overwrite) as temp:
        sheet.save(temp, format="JPEG", quality=90)
    index = folder / "index.html"
    _write_atomic_text(index, _index_html(sections, sheet_path.name, time.perf_counter() - start), overwrite)
    return index


def _look_order(names) -> list[str]:
    first = [n for n in ("neutral", "default") if n in names]
    return first + sorted(set(names) - set(first))


def _index_html(sections, sheet_name: str, seconds: float) -> str:
    parts = [
        "<!doctype html><meta charset='utf-8'><title>lumatune demo</title>",
        "<style>body{background:#181818;color:#ddd;font:15px sans-serif;margin:2em}"
        "figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}"
        "img{max-width:420px;display:block}figcaption{max-width:420px}</style>",
        "<h1>lumatune demo</h1>",
        f"<p>Raws made by lumatune's virtual camera (spectral scene, optics, sensor noise) and written as DNG, "
        f"then developed in every built-in look in {seconds:.1f} s.</p>",
        f"<h2>Contact sheet</h2><img src='{html.escape(sheet_name)}' style='max-width:100%'>",
    ]
    for scene, illuminant, dng_name, cells in sections:
        parts.append(f"<h2>{html.escape(scene)} <small>({html.escape(illuminant)}, raw: "
                     f"<a href='{html.escape(dng_name)}'>{html.escape(dng_name)}</a>)</small></h2>")
        for look, image_name in cells:
            parts.append(
                f"<figure><a href='{html.escape(image_name)}'><img src='{html.escape(image_name)}'></a>"
                f"<figcaption><b>{html.escape(look.name)}</b>: {html.escape(look.description)}</figcaption></figure>"
            )
    return "\n".join(parts) + "\n"
