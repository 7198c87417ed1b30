"""Speed of the classifier: training step, evaluation and the data loader that feeds them.

Measured side by side in one run (the machine is noisy: compare ratios, not times):
- resize_ips: phantom photos (320-640 px) decoded and resized into the cache, the first time;
- train_ips: images/s of a training step (forward, backward, AdamW) on a batch already in memory;
- loader_ips: images/s of the augmented training stream from the cache, at the config's default worker count;
- loader_ratio = loader_ips / train_ips: above 1 the loader keeps the step busy (the aim is >= 3);
- eval_ips: images/s of `predict` over the cached images, loader included.
The last line is one JSON object.
Usage: python benchmarks/classify.py [--size 64] [--batch-size 32] [--photos 96] [--steps 6]
                                    [--arch mobilenet_v2]
Runs on the GPU when there is one (the loader always on CPU workers).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from dermgan.classification.cache import cached_images
from dermgan.classification.config import ClassifierConfig
from dermgan.classification.model import build_classifier
from dermgan.classification.predict import predict
from dermgan.classification.tensors import LabelledImages, TrainingStream
from dermgan.data.phantom import make_phantom
from dermgan.training.config import load_config
from dermgan.training.stream import StepBatches


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def rate(images: int, seconds: float) -> float:
    return images / max(seconds, 1e-9)


def train_ips(config: ClassifierConfig, classes: int, steps: int, device: torch.device) -> float:
    """Training steps on one fixed batch, after one warm-up step."""
    torch.manual_seed(0)
    model = build_classifier(config.model, classes).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.train.lr)
    batch, size = config.train.batch_size, config.data.size
    images = torch.randn(batch, 3, size, size, device=device)
    labels = torch.randint(0, classes, (batch,), device=device)

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    return rate(steps * batch, time.perf_counter() - start)


def loader_ips(stream: TrainingStream, config: ClassifierConfig, steps: int) -> float:
    """Batches of the augmented stream at the default worker count, after the first (worker start-up)."""
    batch = config.train.batch_size
    loader = DataLoader(
        stream, batch_sampler=StepBatches(0, steps + 1, batch), num_workers=config.train.num_workers
    )
    batches = iter(loader)
    next(batches)
    start = time.perf_counter()
    count = sum(len(labels) for _, labels in batches)
    return rate(count, time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--photos", type=int, default=96)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--arch", default="mobilenet_v2")
    arguments = parser.parse_args()
    overrides = [
        f"data.size={arguments.size}",
        f"train.batch_size={arguments.batch_size}",
        f"model.arch={arguments.arch}",
    ]
    config = load_config(None, overrides, schema=ClassifierConfig)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        summary = make_phantom(root / "photos", arguments.photos, seed=0, progress=False)
        sources = sorted(summary.images.glob("*"))
        start = time.perf_counter()
        files = cached_images(sources, config.data.size, root / "cache", progress=False)
        resize = rate(len(files), time.perf_counter() - start)
        labels = [index % 8 for index in range(len(files))]
        images = LabelledImages(files, labels)
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        step = train_ips(config, 8, arguments.steps, device)
        loader = loader_ips(TrainingStream(images, config.data, seed=0), config, arguments.steps)
        model = build_classifier(config.model, 8).to(device)
        predict(model, images, device, progress=False)  # warm-up
        start = time.perf_counter()
        predict(model, images, device, workers=config.train.num_workers, progress=False)
        evaluate = rate(len(images), time.perf_counter() - start)
    result = {
        "device": device.type,
        "arch": config.model.arch,
        "size": config.data.size,
        "batch_size": config.train.batch_size,
        "num_workers": config.train.num_workers,
        "threads": torch.get_num_threads(),
        "resize_ips": round(resize, 1),
        "train_ips": round(step, 1),
        "loader_ips": round(loader, 1),
        "loader_ratio": round(loader / step, 2),
        "eval_ips": round(evaluate, 1),
    }
    print(
        f"{config.model.arch} at {config.data.size} px, batch {config.train.batch_size}: training step "
        f"{step:.1f} images/s, loader ({config.train.num_workers} workers) {loader:.1f} images/s "
        f"(x{loader / step:.1f}), evaluation {evaluate:.1f} images/s, first resize {resize:.1f} photos/s"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
