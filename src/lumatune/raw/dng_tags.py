"""The one DNG/TIFF tag table: tag codes by name, TIFF field types, and the types each tag may have.

The reader (:mod:`lumatune.raw.dng_read`) and the writer (:mod:`lumatune.io.dng`) both take their codes
from here.

References
----------
.. [1] Adobe, "Digital Negative (DNG) Specification", version 1.6.0.0, 2021, chapter 4 (tag definitions:
       codes, types and counts).
.. [2] Adobe, "TIFF Revision 6.0", 1992, section 2 (field types) and section 8 (baseline tags).
.. [3] ISO 12234-2:2001 (TIFF/EP): CFARepeatPatternDim, CFAPattern.
.. [4] JEITA CP-3451C (Exif 2.3): ExifIFD and the capture tags.
"""

from __future__ import annotations

__all__ = [
    "ALLOWED_TYPES",
    "ASCII",
    "BYTE",
    "DOUBLE",
    "LONG",
    "RATIONAL",
    "SHORT",
    "SRATIONAL",
    "TAGS",
    "TAG_NAMES",
    "TYPE_NAMES",
    "UNDEFINED",
]

TAGS = {
    "NewSubfileType": 254,
    "BitsPerSample": 258,
    "PhotometricInterpretation": 262,
    "Make": 271,
    "Model": 272,
    "Orientation": 274,
    "CFARepeatPatternDim": 33421,
    "CFAPattern": 33422,
    "ExposureTime": 33434,
    "FNumber": 33437,
    "ExifIFD": 34665,
    "ISOSpeedRatings": 34855,
    "ExifVersion": 36864,
    "DateTimeOriginal": 36867,
    "FocalLength": 37386,
    "LensModel": 42036,
    "DNGVersion": 50706,
    "DNGBackwardVersion": 50707,
    "UniqueCameraModel": 50708,
    "CFAPlaneColor": 50710,
    "CFALayout": 50711,
    "LinearizationTable": 50712,
    "BlackLevelRepeatDim": 50713,
    "BlackLevel": 50714,
    "WhiteLevel": 50717,
    "DefaultCropOrigin": 50719,
    "DefaultCropSize": 50720,
    "ColorMatrix1": 50721,
    "ColorMatrix2": 50722,
    "CameraCalibration1": 50723,
    "CameraCalibration2": 50724,
    "AnalogBalance": 50727,
    "AsShotNeutral": 50728,
    "AsShotWhiteXY": 50729,
    "BaselineExposure": 50730,
    "CalibrationIlluminant1": 50778,
    "CalibrationIlluminant2": 50779,
    "ActiveArea": 50829,
    "ForwardMatrix1": 50964,
    "ForwardMatrix2": 50965,
    "OpcodeList1": 51008,
    "OpcodeList2": 51009,
    "OpcodeList3": 51022,
    "NoiseProfile": 51041,
}
"""Tag codes by the specifications' tag names (DNG 1.6 chapter 4, TIFF 6.0, TIFF/EP, Exif 2.3)."""

TAG_NAMES = {code: name for name, code in TAGS.items()}
"""Tag names by code."""

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED, SRATIONAL, DOUBLE = 1, 2, 3, 4, 5, 7, 10, 12
"""TIFF field types (TIFF 6.0 section 2, plus DOUBLE)."""

TYPE_NAMES = {
    1: "BYTE", 2: "ASCII", 3: "SHORT", 4: "LONG", 5: "RATIONAL", 6: "SBYTE", 7: "UNDEFINED", 8: "SSHORT",
    9: "SLONG", 10: "SRATIONAL", 11: "FLOAT", 12: "DOUBLE",
}
"""Names of the TIFF field types by code."""

ALLOWED_TYPES = {
    "BitsPerSample": (SHORT,),
    "LinearizationTable": (SHORT,),
    "BlackLevel": (SHORT, LONG, RATIONAL),
    "WhiteLevel": (SHORT, LONG),
    "ColorMatrix1": (SRATIONAL,),
    "ColorMatrix2": (SRATIONAL,),
    "CameraCalibration1": (SRATIONAL,),
    "CameraCalibration2": (SRATIONAL,),
    "ForwardMatrix1": (SRATIONAL,),
    "ForwardMatrix2": (SRATIONAL,),
    "AnalogBalance": (RATIONAL,),
    "AsShotNeutral": (SHORT, RATIONAL),
    "AsShotWhiteXY": (RATIONAL,),
    "BaselineExposure": (SRATIONAL,),
    "DefaultCropOrigin": (SHORT, LONG, RATIONAL),
    "DefaultCropSize": (SHORT, LONG, RATIONAL),
    "CalibrationIlluminant1": (SHORT,),
    "CalibrationIlluminant2": (SHORT,),
    "ActiveArea": (SHORT, LONG),
    "NoiseProfile": (DOUBLE,),
}
"""The field types DNG 1.6 chapter 4 allows for each numeric tag the reader checks (the DNG SDK ignores others)."""
