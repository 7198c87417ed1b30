"""Batch-norm statistics of the final weights ("precise BN", as in pycls), for evaluation mode.

The running averages a batch-norm layer keeps while training mix statistics of many earlier weights. A
MobileNet trained from scratch at 32-64 px ends with averages so far from its final layers' statistics
that in evaluation mode it predicts one class for every image, while the same weights in training mode
are right on most of them. Recomputing the averages over the training images with the final weights
removes that gap.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


@torch.no_grad()
def recompute_batch_norm(
    model: nn.Module,
    images: Dataset[tuple[torch.Tensor, int]],
    device: torch.device,
    *,
    batch_size: int = 64,
    workers: int = 2,
) -> None:
    """Sets every batch-norm layer's running mean and variance to their average over `images`, in order;
    the weights, the other layers' mode and the global random state are left as they were."""
    layers = [module for module in model.modules() if isinstance(module, nn.modules.batchnorm._BatchNorm)]
    if not layers or not len(images):
        return
    was_training = model.training
    model.eval()  # dropout off: the pass draws no random numbers
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # a plain average over the batches
        layer.train()
    loader = DataLoader(images, batch_size=batch_size, num_workers=workers, generator=torch.Generator())
    for batch, _ in loader:
        model(batch.to(device))
    for layer, momentum in zip(layers, momenta, strict=True):
        layer.momentum = momentum
    model.train(was_training)
