"""lumatune.jobs: develop many files (develop_files, batch manifest, demo)."""
