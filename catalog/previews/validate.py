"""Checks a preview image before it is stored: decodes, a known format, within limits."""

import io
import warnings
from dataclasses import dataclass

from PIL import Image

from .kinds import IMAGE_FORMATS


class InvalidPreview(ValueError):
    """A preview that cannot be stored; the message says why, for a person."""


@dataclass(frozen=True)
class CheckedImage:
    content_type: str
    extension: str
    width: int
    height: int


def check_image(data: bytes, *, max_bytes: int, max_side: int) -> CheckedImage:
    """Decode ``data`` fully with Pillow and return what it is, or raise InvalidPreview."""
    if not data:
        raise InvalidPreview("the image is empty")
    if len(data) > max_bytes:
        raise InvalidPreview(f"the image is {len(data):,} bytes; at most {max_bytes:,} are taken")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format, (width, height) = image.format, image.size
                if image_format not in IMAGE_FORMATS:
                    raise InvalidPreview(
                        f"a {image_format} image; send JPEG, PNG or WebP"
                        if image_format
                        else "not an image Pillow knows"
                    )
                if max(width, height) > max_side:
                    raise InvalidPreview(
                        f"the image is {width} x {height} pixels; "
                        f"the long side may be at most {max_side}"
                    )
                image.load()  # decode every pixel: a truncated file fails here
    except InvalidPreview:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as error:
        raise InvalidPreview(f"the image does not decode ({error})") from error
    content_type, extension = IMAGE_FORMATS[image_format]
    return CheckedImage(content_type, extension, width, height)
