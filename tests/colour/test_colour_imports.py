"""The colour modules are on the develop path: they must not import colour-science or matplotlib."""

from __future__ import annotations

import subprocess
import sys

MODULES = [
    "lumatune.colour.spaces",
    "lumatune.colour.temperature",
    "lumatune.colour.dng",
    "lumatune.colour.interpolate",
]


def test_colour_modules_do_not_import_colour_science_or_matplotlib():
    code = (
        f"import sys; import {', '.join(MODULES)}; "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('colour', 'matplotlib')); "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
