"""Photos resized to the classifier's input once, kept on disk by file content and size.

Decoding a full-size clinical photo costs far more than a training step at 64-224 px, so every epoch
after the first would wait on the decoder. The key is the sha256 of the file's bytes, so a renamed
photo is found again and an edited one is resized again. The whole photo is resized to a square
(uncropped, as the paper's classifier sees it), after EXIF rotation.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from dermgan.data.images import ImageError, load_rgb
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


def _resize_once(job: _Job) -> Path | str:
    """The cached file of one photo (made if missing), or why the photo cannot be used."""
    try:
        digest = hashlib.sha256(job.source.read_bytes()).hexdigest()
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    target = job.folder / digest[:2] / f"{digest}.png"
    if target.exists():
        return target
    try:
        image = load_rgb(job.source)
    except ImageError as error:
        return str(error)
    save_png(image.resize((job.size, job.size), Image.Resampling.BICUBIC, reducing_gap=3.0), target)
    return target


def cached_images(
    sources: Sequence[Path],
    size: int,
    folder: str | os.PathLike[str] | None = None,
    *,
    workers: int | None = None,
    progress: bool = True,
) -> list[Path]:
    """The size x size copy of every photo, in order; UserError naming every photo that cannot be read."""
    root = Path(folder or default_cache_dir()) / f"square-{size}"
    jobs = [_Job(Path(source), root, size) for source in sources]
    results = list(parallel_map(_resize_once, jobs, workers=workers, desc="resizing", progress=progress))
    bad = [(job.source, reason) for job, reason in zip(jobs, results, strict=True) if isinstance(reason, str)]
    if bad:
        listing = "\n".join(f"  {source}: {reason}" for source, reason in bad[:20])
        raise UserError(
            f"{len(bad)} photo(s) cannot be used:\n{listing}\nCheck them with `dermgan data validate`."
        )
    return results  # type: ignore[return-value]
