"""lumatune.calibrate."""
