"""DermGAN: controllable synthesis of clinical skin-condition photos, and the evidence that they help."""

__version__ = "0.1.0"
