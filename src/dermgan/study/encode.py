"""Study images are re-encoded alike, so no file detail can give a real or synthetic source away.

Every image becomes a centre square of one size, saved as an uncompressed PNG made from raw pixels:
same format, same pixel size, the same number of bytes, no EXIF or text chunks of the source file.
"""

from __future__ import annotations

import io
import os

from PIL import Image, ImageOps

from dermgan.data.images import ImageError, load_rgb
from dermgan.errors import UserError

MEDIA_TYPE = "image/png"


def encode_study_image(path: str | os.PathLike[str], size: int) -> bytes:
    try:
        photo = load_rgb(path)
    except ImageError as error:
        raise UserError(f"study image {path} {error}") from None
    square = ImageOps.fit(photo, (size, size), Image.Resampling.LANCZOS)
    clean = Image.frombytes("RGB", square.size, square.tobytes())
    buffer = io.BytesIO()
    clean.save(buffer, format="PNG", compress_level=0)
    return buffer.getvalue()
