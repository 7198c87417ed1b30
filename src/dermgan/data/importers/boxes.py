"""The boxes option every importer shares: a whole-image box, or boxes joined from a COCO file."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import ExifTags, Image, UnidentifiedImageError

from dermgan.data.images import ImageError, check_regular_file
from dermgan.data.importers.coco_file import read_coco
from dermgan.data.importers.locate import file_key
from dermgan.data.manifest import Box
from dermgan.errors import UserError

WHOLE_IMAGE = "whole-image"
_TRANSPOSED_ORIENTATIONS = {5, 6, 7, 8}


def whole_image_box(path: Path) -> Box:
    """[0, 0, width, height] as displayed: an EXIF rotation by 90 degrees swaps width and height.
    Reads the header only, not the pixels."""
    check_regular_file(path)
    try:
        with Image.open(path) as image:
            width, height = image.size
            orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except UnidentifiedImageError:
        raise ImageError("is not an image Pillow can read") from None
    except Image.DecompressionBombError:
        raise ImageError("has too many pixels (decompression bomb guard)") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"is truncated or corrupt ({error})") from None
    if orientation in _TRANSPOSED_ORIENTATIONS:
        width, height = height, width
    return (0.0, 0.0, float(width), float(height))


def boxes_by_file_name(option: str | os.PathLike[str]) -> dict[str, tuple[Box, ...]]:
    """Every box of a COCO file (whatever its category), keyed by image file name for joining."""
    path = Path(option)
    if not path.is_file():
        raise UserError(f"boxes: {option} is neither {WHOLE_IMAGE!r} nor an existing COCO JSON file")
    joined: dict[str, tuple[Box, ...]] = {}
    folders: dict[str, str] = {}
    for image in read_coco(path).images:
        name = file_key(image.file_name)
        if name in folders and folders[name] != image.file_name:
            raise UserError(
                f"{path} names two images {name} ({folders[name]} and {image.file_name}); boxes are joined "
                "by file name, so rename one of them"
            )
        folders[name] = image.file_name
        joined[name] = joined.get(name, ()) + tuple(box for boxes in image.boxes.values() for box in boxes)
    return {name: boxes for name, boxes in joined.items() if boxes}
