"""The demo's pictures of what a generator controls: their files, and the maps its tone sweep renders.

The demo draws them and the report prints the commands that draw them, from these same values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

FIGURES = ("generated.png", "tone-sweep.png", "size-sweep.png", "real-vs-generated.png")
TONE_SWEEP_CONDITIONS = ("melanocytic nevus", "melanoma", "psoriasis")


def tone_sweep_maps(size: int, conditions: Sequence[str] = TONE_SWEEP_CONDITIONS) -> list[str]:
    """A centred box of 5/16 of the side for each condition a model knows, as `sweep tone --map` JSON."""
    return [
        json.dumps(
            {"condition": name, "skin_type": 2, "center": [size // 2, size // 2], "size": size * 5 // 16}
        )
        for name in TONE_SWEEP_CONDITIONS
        if name in conditions
    ]
