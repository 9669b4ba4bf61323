"""lumatune.io."""
