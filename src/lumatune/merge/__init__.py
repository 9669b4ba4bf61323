"""lumatune.merge: burst and bracket merging (many raws of one camera in, one cleaner raw out).

:func:`merge_frames` reads the frames one at a time, aligns each to the first (the reference) and merges it
robustly; :func:`write_merged_dng` writes the result as a DNG with the reference's metadata and a NoiseProfile
of the merged noise. The package sits above ``raw``, ``io`` and ``colour`` and below the command line; it does
not use the pipeline's stages.
"""

from __future__ import annotations

from lumatune.merge.merge import FrameReport, MergeResult, merge_arrays, merge_frames
from lumatune.merge.output import write_merged_dng

__all__ = ["FrameReport", "MergeResult", "merge_arrays", "merge_frames", "write_merged_dng"]
