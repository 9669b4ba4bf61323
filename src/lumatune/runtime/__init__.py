"""lumatune.runtime: process-wide runtime helpers (numba start-up, profiling)."""
