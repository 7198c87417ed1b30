"""A tiny random-weight feature network (the real Inception is ~100 MB and slow) and small image sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from dermgan.evaluation.features import FeatureNetwork

SIZE = 32


class CountingNetwork(torch.nn.Module):
    """A fixed random conv net with 16 features; counts the images it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 16, kernel_size=5, stride=3)
        with torch.no_grad():
            weights = torch.randn(self.conv.weight.shape, generator=torch.Generator().manual_seed(0))
            self.conv.weight.copy_(weights * 0.2)
            self.conv.bias.zero_()
        self.images_seen = 0

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.images_seen += len(images)
        return torch.relu(self.conv(images / 128 - 1)).mean(dim=(2, 3))


def tiny_network() -> FeatureNetwork:
    return FeatureNetwork(CountingNetwork(), id="tiny-test", size=SIZE)


def write_images(folder: Path, n: int, *, seed: int, brightness: float = 128.0, size: int = 40) -> list[Path]:
    """Noise images around a brightness: sets of different brightness have different features."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(n):
        base = rng.normal(brightness, 30, size=(1, 1, 3))
        pixels = np.clip(base + rng.normal(0, 40, size=(size, size, 3)), 0, 255).astype(np.uint8)
        path = folder / f"image_{index:04d}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


def extract_on_rank(
    rank: int, world_size: int, port: int, paths: list[Path], caches: Path, out: Path
) -> None:
    """One torchrun-like rank (gloo) with its own cache caches/rank<r>: saves the features it returns and
    how many images it embedded."""
    from dermgan.evaluation.features import extract_features

    torch.distributed.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size
    )
    try:
        network = tiny_network()
        features = extract_features(
            paths, network, cache=caches / f"rank{rank}", batch_size=4, workers=0, progress=False
        )
        np.save(out / f"rank{rank}.npy", features.values)
        (out / f"rank{rank}.seen").write_text(str(network.module.images_seen))
    finally:
        torch.distributed.destroy_process_group()
