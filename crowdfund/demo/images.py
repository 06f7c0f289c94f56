"""Cover and story pictures drawn at seed time with Pillow: no files shipped, no downloads.

Each is a small scene (a sky or a table top, light, and the campaign's object drawn from
simple shapes) rendered at a quarter size, softened and scaled up, so it looks like a
photograph out of focus rather than a flat gradient. Deterministic: the same theme and seed
give the same picture."""

import io
import random

from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 960, 540


def _gradient(size, top, bottom):
    width, height = size
    column = Image.new("RGB", (1, height))
    for y in range(height):
        t = y / max(height - 1, 1)
        column.putpixel((0, y), tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    return column.resize(size)


def _bokeh(image, rng, colour, count):
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    width, height = image.size
    for _ in range(count):
        r = rng.randint(height // 30, height // 8)
        x, y = rng.randint(0, width), rng.randint(0, height)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(*colour, rng.randint(25, 70)))
    return Image.alpha_composite(image.convert("RGBA"), layer.filter(ImageFilter.GaussianBlur(height // 40)))


def _shade(colour, factor):
    return tuple(max(0, min(255, int(c * factor))) for c in colour)


def _object(draw, theme, box, colour, rng):
    """The campaign's object, drawn in `box` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    dark, light = _shade(colour, 0.55), _shade(colour, 1.35)
    if theme == "tea":  # a tin and leaves
        draw.rounded_rectangle((cx - w // 6, cy - h // 4, cx + w // 6, cy + h // 3), radius=w // 30, fill=colour)
        draw.rectangle((cx - w // 6, cy - h // 4, cx + w // 6, cy - h // 6), fill=dark)
        for _ in range(7):
            lx, ly = cx + rng.randint(-w // 2, w // 2), cy + h // 3 + rng.randint(-h // 12, h // 12)
            draw.ellipse((lx - w // 22, ly - h // 40, lx + w // 22, ly + h // 40), fill=(74, 124, 52))
    elif theme == "bicycle":
        for wx in (cx - w // 4, cx + w // 4):
            draw.ellipse((wx - w // 6, cy - w // 6 + h // 8, wx + w // 6, cy + w // 6 + h // 8), outline=dark, width=8)
        draw.line((cx - w // 4, cy + h // 8, cx, cy - h // 8, cx + w // 4, cy + h // 8), fill=colour, width=10)
        draw.line((cx, cy - h // 8, cx - w // 12, cy + h // 8, cx - w // 4, cy + h // 8), fill=colour, width=10)
    elif theme == "lamp":
        draw.polygon(
            [(cx - w // 5, cy), (cx + w // 5, cy), (cx + w // 9, cy - h // 3), (cx - w // 9, cy - h // 3)], fill=light
        )
        draw.line((cx, cy, cx, cy + h // 3), fill=dark, width=8)
        draw.ellipse((cx - w // 8, cy + h // 3 - 8, cx + w // 8, cy + h // 3 + 12), fill=dark)
    elif theme == "book":
        draw.polygon(
            [(cx - w // 3, cy - h // 4), (cx, cy - h // 5), (cx, cy + h // 3), (cx - w // 3, cy + h // 4)], fill=light
        )
        draw.polygon(
            [(cx + w // 3, cy - h // 4), (cx, cy - h // 5), (cx, cy + h // 3), (cx + w // 3, cy + h // 4)], fill=colour
        )
    elif theme == "game":
        draw.rounded_rectangle((cx - w // 4, cy - h // 6, cx + w // 4, cy + h // 5), radius=h // 8, fill=colour)
        draw.ellipse((cx - w // 6, cy - 14, cx - w // 6 + 28, cy + 14), fill=light)
        draw.ellipse((cx + w // 8, cy - 14, cx + w // 8 + 28, cy + 14), fill=dark)
    elif theme == "garden":
        for i in range(5):
            px = x0 + (i + 1) * w // 6
            draw.line((px, cy + h // 3, px, cy - h // 6 + rng.randint(-20, 20)), fill=(56, 102, 65), width=6)
            draw.ellipse((px - 26, cy - h // 6 - 26, px + 26, cy - h // 6 + 26), fill=colour)
    elif theme == "soap":
        for i in range(3):
            ox = cx + (i - 1) * w // 5
            draw.rounded_rectangle(
                (ox - w // 12, cy - h // 10, ox + w // 12, cy + h // 10), radius=18, fill=_shade(colour, 0.9 + i * 0.15)
            )
    elif theme == "ceramics":
        draw.ellipse((cx - w // 5, cy - h // 5, cx + w // 5, cy + h // 4), fill=colour)
        draw.rectangle((cx - w // 10, cy - h // 3, cx + w // 10, cy - h // 6), fill=colour)
        draw.ellipse((cx - w // 10, cy - h // 3 - 10, cx + w // 10, cy - h // 3 + 10), fill=dark)
    else:  # a parcel
        draw.rectangle((cx - w // 5, cy - h // 5, cx + w // 5, cy + h // 4), fill=colour)
        draw.line((cx, cy - h // 5, cx, cy + h // 4), fill=dark, width=10)


def picture(theme, colour, accent=(236, 166, 72), *, seed=1, width=WIDTH, height=HEIGHT, fmt="JPEG"):
    """A `width` x `height` picture of `theme`: a `colour` scene (RGB) with the object in `accent`."""
    rng = random.Random(f"{theme}-{seed}")
    small = (width // 3, height // 3)
    sky = _gradient(small, _shade(colour, 1.6), _shade(colour, 0.45))
    image = _bokeh(sky, rng, (255, 244, 214), 14)
    draw = ImageDraw.Draw(image)
    horizon = int(small[1] * 0.72)
    for y in range(horizon, small[1]):  # a table top or a field, lit from the front
        draw.line((0, y, small[0], y), fill=(*_shade(colour, 0.5 + 0.35 * (y - horizon) / (small[1] - horizon)), 255))
    scene = image.resize((width, height), Image.BICUBIC).filter(ImageFilter.GaussianBlur(3))
    sharp = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    _object(ImageDraw.Draw(sharp), theme, (width // 4, height // 6, 3 * width // 4, 5 * height // 6), accent, rng)
    shadow = sharp.split()[3].filter(ImageFilter.GaussianBlur(14))
    scene.paste((20, 20, 20), (12, 16), shadow.point(lambda a: a // 3))
    scene = Image.alpha_composite(scene, sharp).convert("RGB")
    out = io.BytesIO()
    scene.save(out, fmt, quality=82) if fmt == "JPEG" else scene.save(out, fmt)
    return out.getvalue()
