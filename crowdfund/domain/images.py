"""Story images made safe and light on the server: Pillow decodes what was uploaded, turns it
upright (EXIF orientation), shrinks it to a maximum width and writes a new file from the bare
pixels, so no metadata (camera, GPS position, comments, colour profiles) survives and no
crafted bytes of the upload reach a reader's browser."""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from .files import sniff

# What we accept (judged by the bytes) and how Pillow names each format.
ACCEPTED = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}
JPEG_QUALITY = 85
# A decoded image costs width x height x 4 bytes of memory: refuse more pixels than this
# before decoding (a small file can claim to be 50,000 x 50,000).
DEFAULT_MAX_PIXELS = 40_000_000


class ImageRefused(ValueError):
    """The upload is not an image we can use. `reason`: not_an_image | too_many_pixels | broken."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PreparedImage:
    content: bytes
    content_type: str  # image/jpeg, or image/png when the picture has transparency
    extension: str
    width: int
    height: int


def _has_transparency(image):
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def prepare(content, *, max_width, max_pixels=DEFAULT_MAX_PIXELS):
    """The upload `content` re-encoded for the story, or ImageRefused."""
    if sniff(content[:32]) not in ACCEPTED:
        raise ImageRefused("not_an_image")
    try:
        with warnings.catch_warnings():
            # Pillow warns of (or refuses, from twice its limit) huge images as it opens them; our
            # own, lower limit just below answers with the right words.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            source = Image.open(io.BytesIO(content), formats=list(ACCEPTED.values()))
        with source:
            width, height = source.size
            if width < 1 or height < 1:
                raise ImageRefused("broken")
            if width * height > max_pixels:
                raise ImageRefused("too_many_pixels")
            source.seek(0)  # an animation: its first frame
            upright = ImageOps.exif_transpose(source)
            transparent = _has_transparency(upright)
            upright = upright.convert("RGBA" if transparent else "RGB")
    except ImageRefused:
        raise
    except Image.DecompressionBombError as error:
        raise ImageRefused("too_many_pixels") from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise ImageRefused("broken") from error
    if upright.width > max_width:
        upright = upright.resize(
            (max_width, max(1, round(upright.height * max_width / upright.width))), Image.Resampling.LANCZOS
        )
    # A new image from the bare pixels: `info` (EXIF, ICC, XMP, text chunks) stays behind.
    bare = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    out = io.BytesIO()
    if transparent:
        bare.save(out, format="PNG", optimize=True)
        content_type, extension = "image/png", ".png"
    else:
        bare.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        content_type, extension = "image/jpeg", ".jpg"
    return PreparedImage(out.getvalue(), content_type, extension, bare.width, bare.height)
