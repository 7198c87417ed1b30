"""Putting a dataset's images under OUT/images: hard links where the filesystem allows, else copies."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from dermgan.errors import UserError
from dermgan.files import atomic_path

IMAGES_FOLDER = "images"


def relative_names(paths: Iterable[Path]) -> dict[Path, PurePosixPath]:
    """Each image's path below the deepest folder holding them all: sub-folders are kept, so two
    images of the same name in different folders never clash."""
    absolute = {path: Path(os.path.abspath(path)) for path in paths}
    if not absolute:
        return {}
    common = Path(os.path.commonpath([path.parent for path in absolute.values()]))
    return {path: PurePosixPath(full.relative_to(common).as_posix()) for path, full in absolute.items()}


def place_image(source: Path, target: Path, *, link: bool) -> None:
    """Hard-links (when `link` and the filesystem allow) or copies source to target, replacing an
    older file there atomically; a file that already is the source is left alone."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and os.path.samefile(source, target):
        return
    try:
        with atomic_path(target) as temporary:
            temporary.unlink()
            if not (link and _hard_link(source, temporary)):
                shutil.copyfile(source, temporary)
    except OSError as error:
        raise UserError(f"cannot copy {source} to {target}: {error.strerror or error}") from None


def _hard_link(source: Path, target: Path) -> bool:
    """False where a hard link is impossible (another filesystem, or one without links)."""
    try:
        os.link(source, target)
    except OSError:
        return False
    return True
