"""Class probabilities of a trained classifier over labelled images, in batches."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from dermgan.classification.tensors import LabelledImages


@torch.no_grad()
def predict(
    model: nn.Module,
    images: LabelledImages,
    device: torch.device,
    *,
    batch_size: int = 64,
    workers: int = 2,
    progress: bool = True,
) -> np.ndarray:
    """N x classes softmax probabilities, in the order of `images`; the model is left as it was."""
    was_training = model.training
    model.eval()
    loader = DataLoader(
        images,
        batch_size=batch_size,
        num_workers=workers,
        # Its own generator: drawing worker seeds from the global one would shift a training run's
        # dropout draws after each validation pass, and a resumed run would differ.
        generator=torch.Generator(),
    )
    parts = []
    for batch, _ in tqdm(loader, desc="predicting", unit="batch", disable=not progress, leave=False):
        parts.append(torch.softmax(model(batch.to(device)).float(), dim=1).cpu())
    model.train(was_training)
    return torch.cat(parts).numpy() if parts else np.zeros((0, 0))
