"""Opening photos safely: EXIF rotation applied, every convertible mode made 8-bit RGB, the rest refused.

Boxes are given in the displayed orientation, so every stage sees images through `load_rgb`.
"""

from __future__ import annotations

import errno
import os
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow's own bomb limit (about 179 Mpx warns, twice that fails); a clinical photo is far below it.
MAX_PIXELS = 100_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_DIRECT_MODES = {"RGB", "L", "P", "CMYK", "YCbCr", "LAB", "HSV", "1"}
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
_WIDE_MODES = {"I;16", "I;16B", "I;16L", "I;16N", "I"}


class ImageError(ValueError):
    """A file that cannot become an RGB photo; the message is the reason, for a validation report."""


def _to_rgb(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in _ALPHA_MODES:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode in _WIDE_MODES:
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if values.max(initial=0) > 255 or mode.startswith("I;16") else 255.0
        gray = np.clip(np.round(values / top * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, mode="L").convert("RGB")
    if mode in _DIRECT_MODES:
        return image.convert("RGB")
    raise ImageError(f"pixel mode {mode} cannot be converted to 8-bit RGB; save the photo as JPEG or PNG")


def check_regular_file(path: str | os.PathLike[str]) -> None:
    """ImageError unless `path` is a regular file: a FIFO or device would block a reader forever, and a
    symbolic link loop or a dangling link is no photo."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        dangling = os.path.islink(path)
        raise ImageError("is a symbolic link to nothing" if dangling else "file does not exist") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ImageError("is a symbolic link loop, not an image file") from None
        raise ImageError(f"cannot be read ({error.strerror})") from None
    if stat.S_ISDIR(mode):
        raise ImageError("is a folder, not an image file")
    if not stat.S_ISREG(mode):
        raise ImageError("is not a regular file (a FIFO, socket or device), so it is not read")


def load_rgb(path: str | os.PathLike[str]) -> Image.Image:
    """The photo as displayed (EXIF orientation applied), fully decoded, 8-bit RGB; ImageError if not."""
    path = Path(path)
    check_regular_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                opened.load()
                image = ImageOps.exif_transpose(opened)
                if image is opened:
                    image = opened.copy()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"has more than {MAX_PIXELS:,} pixels (decompression bomb guard)") from None
    except UnidentifiedImageError:
        raise ImageError("is not an image Pillow can read") from None
    except PermissionError:
        raise ImageError("cannot be read (permission denied)") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"is truncated or corrupt ({error})") from None
    if image.width == 0 or image.height == 0:
        raise ImageError("has zero width or height")
    return _to_rgb(image)
