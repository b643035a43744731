"""``/favicon.ico``: a 32x32 icon drawn in code (a small bar chart on the page's navy).

Every browser asks for ``/favicon.ico`` whatever the page links, and a 404 there is noise in
every log and DevTools console. Drawing the icon here keeps the package free of binary files
and the ICO format is simple: one header, one directory entry, one 32-bit bitmap (rows bottom
up) and its 1-bit transparency mask.
"""

from __future__ import annotations

import struct
from functools import cache

SIZE = 32
_BACKGROUND = (0x14, 0x1B, 0x33)  # the page's panel colour
#: (first column, last column, height) and colour of each bar, left to right.
_BARS = (
    ((6, 11, 11), (0x2F, 0xBF, 0x71)),
    ((13, 18, 17), (0xE0, 0xA1, 0x00)),
    ((20, 25, 23), (0xE5, 0x48, 0x4D)),
)
_BASELINE = 27  # the row the bars stand on (rows counted from the top)
_RADIUS = 6


def _inside_rounded_square(x: int, y: int) -> bool:
    cx = min(max(x, _RADIUS), SIZE - 1 - _RADIUS)
    cy = min(max(y, _RADIUS), SIZE - 1 - _RADIUS)
    return (x - cx) ** 2 + (y - cy) ** 2 <= _RADIUS**2


def _pixel(x: int, y: int) -> tuple[int, int, int, int]:
    """(red, green, blue, alpha) at column ``x``, row ``y`` from the top."""
    if not _inside_rounded_square(x, y):
        return (0, 0, 0, 0)
    for (first, last, height), colour in _BARS:
        if first <= x <= last and _BASELINE - height < y <= _BASELINE:
            return (*colour, 255)
    return (*_BACKGROUND, 255)


@cache
def favicon_ico() -> bytes:
    """The icon file's bytes (built once)."""
    pixels = bytearray()
    mask = bytearray()
    for y in reversed(range(SIZE)):  # BMP rows run bottom up
        bits = 0
        for x in range(SIZE):
            red, green, blue, alpha = _pixel(x, y)
            pixels += bytes((blue, green, red, alpha))
            bits = (bits << 1) | (alpha == 0)
        mask += bits.to_bytes(SIZE // 8, "big")  # 32 px: exactly 4 bytes, no padding
    # BITMAPINFOHEADER: the height counts the colour rows and the mask rows together.
    header = struct.pack(
        "<IiiHHIIiiII", 40, SIZE, SIZE * 2, 1, 32, 0, len(pixels + mask), 0, 0, 0, 0
    )
    image = header + pixels + mask
    directory = struct.pack("<HHH", 0, 1, 1)  # reserved, type 1 = icon, one image
    entry = struct.pack("<BBBBHHII", SIZE, SIZE, 0, 0, 1, 32, len(image), 6 + 16)
    return directory + entry + image
