"""Reference charts as the pipeline sees them: the ColorChecker 24 in linear Rec.2020 (D65).

The chart's data are stored here (no colour-science on import: :mod:`lumatune.colour` stays light); a test
checks them against colour-science's.

References
----------
-   X-Rite, "ColorChecker 24" reference values for charts made after November 2014 (CIE xyY, D50), as
    distributed by colour-science (``CCS_COLOURCHECKERS["ColorChecker24 - After November 2014"]``).
-   CIE 15:2004, section 7.3 (xyY -> XYZ).
"""

from __future__ import annotations

import numpy as np

from lumatune.colour.spaces import MATRIX_D50_TO_D65_BRADFORD, MATRIX_XYZ_TO_REC2020

__all__ = ["COLORCHECKER24_XYY", "colorchecker24_rec2020"]

COLORCHECKER24_XYY: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("dark skin", (0.43748359776589135, 0.37852284252367574, 0.09832436104903851)),
    ("light skin", (0.4222494414825217, 0.37249368511754133, 0.3362023039946287)),
    ("blue sky", (0.27614744043207645, 0.2983815721208263, 0.178551934765673)),
    ("foliage", (0.37331612820722, 0.45116913568963873, 0.13467926789228754)),
    ("blue flower", (0.3028905214310583, 0.286286909325318, 0.22871759975296238)),
    ("bluish green", (0.28640482815577994, 0.3897177845237023, 0.4143554687769077)),
    ("orange", (0.5281477218315832, 0.4053349677195299, 0.3126416158520489)),
    ("purplish blue", (0.23238584983686839, 0.2112037154829227, 0.10910902328342183)),
    ("moderate red", (0.504447547136753, 0.3270647451424294, 0.18899995604639894)),
    ("purple", (0.3334711475089796, 0.25055230112263344, 0.0627666295512321)),
    ("yellow green", (0.3988934507833836, 0.5041491488388328, 0.43317594089100103)),
    ("orange yellow", (0.49357600127214574, 0.44428320198333177, 0.4293377577692557)),
    ("blue", (0.2052207685222249, 0.16866547571361887, 0.055962140625000024)),
    ("green", (0.323037964633496, 0.5104181832990494, 0.22334375824654548)),
    ("red", (0.5628723227211951, 0.33556280741805006, 0.12780083497363057)),
    ("yellow", (0.4677593492335331, 0.47602443369004865, 0.5992976803066956)),
    ("magenta", (0.421310886084705, 0.2669246232731137, 0.18951145768007596)),
    ("cyan", (0.20912871882445683, 0.30265801492415445, 0.18060991295576384)),
    ("white 9.5 (.05 D)", (0.3489144945116201, 0.36421258000166207, 0.8806903202769433)),
    ("neutral 8 (.23 D)", (0.3455838580957924, 0.35988061288500306, 0.5899709701921204)),
    ("neutral 6.5 (.44 D)", (0.3441498292049951, 0.3591850701198528, 0.3648652066306788)),
    ("neutral 5 (.70 D)", (0.3457692225227178, 0.35909382718958216, 0.19062287543564713)),
    ("neutral 3.5 (1.05 D)", (0.34264843258988703, 0.3575835153536729, 0.08817234828393437)),
    ("black 2 (1.5 D)", (0.3437674672618446, 0.356057629662105, 0.03151319430890977)),
)
"""Patch name and CIE xyY (D50) of each of the 24 patches, in chart order (row by row from dark skin)."""


def colorchecker24_rec2020() -> tuple[list[str], np.ndarray]:
    """Names and linear Rec.2020 (D65, Bradford-adapted from D50) of the ColorChecker 24 patches; (24, 3) float64."""
    names = [name for name, _ in COLORCHECKER24_XYY]
    x, y, big_y = np.array([xyy for _, xyy in COLORCHECKER24_XYY]).T
    xyz = np.stack([x * big_y / y, big_y, (1 - x - y) * big_y / y], axis=-1) @ MATRIX_D50_TO_D65_BRADFORD.T
    return names, xyz @ MATRIX_XYZ_TO_REC2020.T
