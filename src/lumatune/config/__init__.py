"""lumatune.config: the file schema: params blocks, tuning and look files (TOML), built-in looks."""
