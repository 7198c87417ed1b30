"""Photos resized to the classifier's input once, kept on disk by file content, framing and size.

Decoding a full-size clinical photo costs far more than a training step at 64-224 px, so every epoch
after the first would wait on the decoder. The key is the sha256 of the file's bytes, so a renamed
photo is found again and an edited one is resized again. With `photo` framing the whole photo is
resized to a square (uncropped, as the paper's classifier sees it); with `roi` the square around its
boxes (framing.py) is cut from the full-resolution photo, and the boxes are part of the key. Both come
after EXIF rotation.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from dermgan.classification.framing import Framing, roi_window
from dermgan.data.images import ImageError, load_rgb
from dermgan.data.manifest import Box
from dermgan.errors import UserError
from dermgan.files import save_png
from dermgan.parallel import parallel_map


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dermgan" / "resized"


@dataclass(frozen=True)
class _Job:
    source: Path
    folder: Path
    size: int
    framing: Framing
    boxes: tuple[Box, ...]


def _target(job: _Job, digest: str) -> Path:
    if job.framing.input == "photo":
        return job.folder / digest[:2] / f"{digest}.png"
    boxes = hashlib.sha256(json.dumps([list(box) for box in job.boxes]).encode()).hexdigest()[:16]
    return job.folder / digest[:2] / f"{digest}-{boxes}.png"


def _resize_once(job: _Job) -> Path | str:
    """The cached file of one photo (made if missing), or why the photo cannot be used."""
    try:
        digest = hashlib.sha256(job.source.read_bytes()).hexdigest()
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    target = _target(job, digest)
    if target.exists():
        return target
    try:
        image = load_rgb(job.source)
    except ImageError as error:
        return str(error)
    window = None
    if job.framing.input == "roi":
        window = roi_window(job.boxes, image.width, image.height, job.framing.margin)
    square = image.resize((job.size, job.size), Image.Resampling.BICUBIC, box=window, reducing_gap=3.0)
    save_png(square, target)
    return target


def _folder(root: Path, size: int, framing: Framing) -> Path:
    if framing.input == "photo":
        return root / f"square-{size}"
    return root / f"roi-{size}-margin-{framing.margin:g}"


def cached_images(
    sources: Sequence[Path],
    size: int,
    folder: str | os.PathLike[str] | None = None,
    *,
    framing: Framing = Framing(),
    boxes: Sequence[Sequence[Box]] | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> list[Path]:
    """The size x size input of every photo, in order (`boxes[i]` frames photo i under `roi`); UserError
    naming every photo that cannot be read."""
    root = _folder(Path(folder or default_cache_dir()), size, framing)
    all_boxes = [tuple(b) for b in boxes] if boxes is not None else [()] * len(sources)
    jobs = [_Job(Path(s), root, size, framing, b) for s, b in zip(sources, all_boxes, strict=True)]
    results = list(parallel_map(_resize_once, jobs, workers=workers, desc="resizing", progress=progress))
    bad = [(job.source, reason) for job, reason in zip(jobs, results, strict=True) if isinstance(reason, str)]
    if bad:
        listing = "\n".join(f"  {source}: {reason}" for source, reason in bad[:20])
        raise UserError(
            f"{len(bad)} photo(s) cannot be used:\n{listing}\nCheck them with `dermgan data validate`."
        )
    return results  # type: ignore[return-value]
