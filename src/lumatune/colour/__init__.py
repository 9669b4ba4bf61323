"""lumatune.colour."""
