"""What the story media tests share: the API client, and real images made with Pillow."""

import io

from PIL import Image

from tests.api.conftest import api  # noqa: F401  (the fixture)


def photo(width=2400, height=1200, *, orientation=None, fmt="JPEG", mode="RGB", color=(200, 80, 40)):
    """An image file as a camera or an editor writes it; with `orientation`, an EXIF tag that
    says how to turn it, and a GPS position and camera model that must not survive."""
    image = Image.new(mode, (width, height), color)
    image.paste((20, 60, 200) if mode == "RGB" else (20, 60, 200, 128), (0, 0, width // 4, height // 4))
    out = io.BytesIO()
    options = {}
    if fmt == "JPEG":
        exif = Image.Exif()
        exif[0x0110] = "Secret Camera 9000"  # Model
        exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}  # GPSInfo
        if orientation:
            exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    image.save(out, format=fmt, **options)
    return out.getvalue()
