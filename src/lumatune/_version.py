"""The version of lumatune (its own module, so io.exif can read it without importing the package root)."""

__version__ = "0.1.0"
