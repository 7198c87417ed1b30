"""Controllable generation: semantic maps (sampled or hand-made) -> synthetic images with provenance."""
