"""Training DermGAN: config, deterministic data stream, checkpoints, logging, distributed helpers, trainer."""
