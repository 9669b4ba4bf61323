"""Where the real raws are (../shared/data/raw beside the project), and a skip with a reason when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_RAWS = Path(__file__).resolve().parents[2] / "shared" / "data" / "raw"


def shared_raws() -> list[Path]:
    """The real raw files beside the project (``../shared/data/raw``), or [] on a fresh clone."""
    return sorted(SHARED_RAWS.glob("*")) if SHARED_RAWS.is_dir() else []


requires_shared = pytest.mark.skipif(
    not shared_raws(), reason=f"real raws not available: {SHARED_RAWS} is absent (fresh clone without ../shared)"
)
