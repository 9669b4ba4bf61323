"""lumatune.lab."""
