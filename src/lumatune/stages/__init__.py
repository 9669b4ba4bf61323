"""lumatune.stages."""
