"""Config-driven wrappers over TRL's trainers: explicit optimizers, checkpoints, resume, logs."""
