"""lumatune.sim."""
