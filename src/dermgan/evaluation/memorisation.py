"""Does a generator copy its training photos? Nearest training image of every synthetic one, in feature space.

A synthetic patient photo that reproduces a training photo leaks that patient's image. For each synthetic
image we find its nearest real training image (Euclidean distance between FID Inception features) and
compare the distance with how close real training images come to each other: the nearest-neighbour
distance of each real image to the other real images. A synthetic image closer to a training image than
`copy_quantile` of those real-real distances is listed as a near-copy, with both pictures side by side.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from pydantic import BaseModel

from dermgan.errors import UserError
from dermgan.evaluation.features import FeatureNetwork, extract_features, inception_network
from dermgan.evaluation.image_sets import ImageSet, load_image_set
from dermgan.files import save_png, write_json

COPY_QUANTILE = 0.01
"""A synthetic image nearer a training image than 1% of real images come to their own nearest neighbour."""
PANEL = 128


class NearCopy(BaseModel):
    synthetic: str
    training: str
    distance: float


class MemorisationResult(BaseModel):
    n_real: int
    n_fake: int
    copy_threshold: float
    """Distances below it count as near-copies: the copy_quantile of real-real nearest distances."""
    copy_quantile: float
    n_near_copies: int
    near_copy_share: float
    fake_to_real_median: float
    real_to_real_median: float
    """A generator that copies has fake-to-real distances well below the real-to-real ones."""
    closest: list[NearCopy]
    """The closest pairs, nearest first (near-copies and the next closest, up to --top)."""


def nearest(
    queries: np.ndarray, references: np.ndarray, exclude_self: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(distance, index) of each query's nearest reference row, computed in chunks to bound memory."""
    reference = torch.from_numpy(references).double()
    distances, indices = [], []
    for start in range(0, len(queries), 1024):
        chunk = torch.from_numpy(queries[start : start + 1024]).double()
        pairwise = torch.cdist(chunk, reference)
        if exclude_self:
            rows = torch.arange(len(chunk))
            pairwise[rows, rows + start] = float("inf")
        best = pairwise.min(dim=1)
        distances.append(best.values.numpy())
        indices.append(best.indices.numpy())
    return np.concatenate(distances), np.concatenate(indices)


def check_memorisation(
    real_train: str | os.PathLike[str] | ImageSet,
    fake: str | os.PathLike[str] | ImageSet,
    *,
    out: str | os.PathLike[str] | None = None,
    split: str | None = "train",
    top: int = 16,
    copy_quantile: float = COPY_QUANTILE,
    network: FeatureNetwork | None = None,
    cache: str | os.PathLike[str] | None = None,
    batch_size: int = 64,
    workers: int | None = None,
    progress: bool = True,
) -> MemorisationResult:
    """Near-copies of training images among FAKE; writes OUT/memorisation.json and OUT/memorisation.png."""
    real = real_train if isinstance(real_train, ImageSet) else load_image_set(real_train, split=split)
    fake = fake if isinstance(fake, ImageSet) else load_image_set(fake)
    if len(real) < 2:
        raise UserError(f"{real.name}: comparing real images with each other needs at least 2 of them")
    network = network or inception_network()
    options = dict(cache=cache, batch_size=batch_size, workers=workers, progress=progress)
    real_features = extract_features(real.paths, network, **options).values
    fake_features = extract_features(fake.paths, network, **options).values
    real_to_real, _ = nearest(real_features, real_features, exclude_self=True)
    fake_to_real, match = nearest(fake_features, real_features)
    threshold = float(np.quantile(real_to_real, copy_quantile))
    order = np.argsort(fake_to_real, kind="stable")
    copies = int((fake_to_real <= threshold).sum())
    closest = [
        NearCopy(
            synthetic=str(fake.paths[i]), training=str(real.paths[match[i]]), distance=float(fake_to_real[i])
        )
        for i in order[: max(top, copies) if top else copies]
    ]
    result = MemorisationResult(
        n_real=len(real),
        n_fake=len(fake),
        copy_threshold=threshold,
        copy_quantile=copy_quantile,
        n_near_copies=copies,
        near_copy_share=copies / len(fake),
        fake_to_real_median=float(np.median(fake_to_real)),
        real_to_real_median=float(np.median(real_to_real)),
        closest=closest,
    )
    if out is not None:
        write_json(Path(out) / "memorisation.json", result.model_dump(mode="json"))
        if closest:
            save_png(side_by_side(closest[: top or len(closest)], threshold), Path(out) / "memorisation.png")
    return result


def side_by_side(pairs: list[NearCopy], threshold: float) -> Image.Image:
    """One row per pair: synthetic | nearest training image, framed red when it counts as a near-copy."""
    label = 14
    sheet = Image.new("RGB", (2 * PANEL + 4, len(pairs) * (PANEL + label)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for row, pair in enumerate(pairs):
        top = row * (PANEL + label)
        for column, path in enumerate((pair.synthetic, pair.training)):
            with Image.open(path) as picture:
                sheet.paste(picture.convert("RGB").resize((PANEL, PANEL)), (column * (PANEL + 4), top))
        copy = pair.distance <= threshold
        if copy:
            draw.rectangle([0, top, 2 * PANEL + 3, top + PANEL - 1], outline=(220, 0, 0), width=3)
        text = f"distance {pair.distance:.2f}" + (" NEAR-COPY" if copy else "")
        draw.text((3, top + PANEL + 1), text, fill=(200, 0, 0) if copy else (0, 0, 0))
    return sheet
