"""A real (decodable) PNG made with the standard library, for cover uploads in browser tests."""

import struct
import zlib


def gradient_png(width=960, height=540, start=(15, 118, 110), end=(204, 251, 241)):
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        for x in range(width):
            t = (x / width + y / height) / 2
            row += bytes(int(a + (b - a) * t) for a, b in zip(start, end))
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 6)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
