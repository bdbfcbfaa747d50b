#!/usr/bin/env python3
"""Draw PaPy Studio's icons and write them as PNG files -- pure Python, no Pillow.

Every icon is a list of simple vector shapes on a 32 x 32 grid (polygons,
circles, rings, thick polylines, rounded rectangles), rasterised with 4 x 4
supersampling for anti-aliasing and written as 8-bit RGBA PNG with ``zlib``
and ``struct``.  The output is deterministic: running the script again gives
byte-identical files, so the committed PNGs can be checked against it.

Usage::

    python assets/make_icons.py            # writes assets/icons/*.png
    python assets/make_icons.py --out DIR  # somewhere else

Names: ``<name>-<size>.png`` for the toolbar (``new``, ``open``, ``save``,
``save-as``, ``run``, ``pause``, ``resume``, ``stop``, ``undo``, ``redo``,
``zoom-fit``, ``layout``, ``app``) and ``node-<category>-<size>.png`` for node
categories, at 16 and 32 px (the app icon also at 64 and 128 px).
"""
from __future__ import annotations

import argparse
import math
import struct
import zlib
from pathlib import Path

SIZES = (16, 32)
APP_SIZES = (16, 32, 64, 128)
SS = 4  # supersampling factor per axis
GRID = 32.0

# One palette for the whole set (Material-like tones, readable on light and dark).
INK = (55, 71, 79)        # outlines and glyphs
PAPER = (250, 250, 250)
GREEN = (46, 125, 50)
AMBER = (249, 168, 37)
RED = (198, 40, 40)
BLUE = (21, 101, 192)
ORANGE = (239, 108, 0)
FOLDER = (255, 193, 7)
WHITE = (255, 255, 255)
CATEGORY_COLORS = {
    "files": (109, 76, 65), "text": (21, 101, 192), "records": (0, 121, 107),
    "shell": (38, 50, 56), "numbers": (106, 27, 154), "sequences": (46, 125, 50),
    "flow": (230, 81, 0), "parallel": (173, 20, 87), "plugin": (84, 110, 122),
}


# -- shapes: each is (kind, color, geometry) in grid units ------------------------

def poly(color, *pts):
    return ("poly", color, pts)


def rect(color, x0, y0, x1, y1, r=0.0):
    return ("rect", color, (x0, y0, x1, y1, r))


def circle(color, cx, cy, r):
    return ("circle", color, (cx, cy, r))


def ring(color, cx, cy, r, width):
    return ("ring", color, (cx, cy, r, width))


def line(color, width, *pts, closed=False):
    pts = tuple(pts) + ((pts[0],) if closed else ())
    return ("line", color, (width, pts))


def arc(color, width, cx, cy, r, a0, a1, steps=24):
    """A thick circular arc from angle a0 to a1 (degrees, 0 = east, clockwise on screen)."""
    pts = [(cx + r * math.cos(math.radians(a0 + (a1 - a0) * i / steps)),
            cy + r * math.sin(math.radians(a0 + (a1 - a0) * i / steps))) for i in range(steps + 1)]
    return line(color, width, *pts)


def _bbox(shape):
    kind, _, g = shape
    if kind == "poly":
        xs, ys = [p[0] for p in g], [p[1] for p in g]
        return min(xs), min(ys), max(xs), max(ys)
    if kind == "rect":
        return g[0], g[1], g[2], g[3]
    if kind == "circle":
        return g[0] - g[2], g[1] - g[2], g[0] + g[2], g[1] + g[2]
    if kind == "ring":
        r = g[2] + g[3] / 2
        return g[0] - r, g[1] - r, g[0] + r, g[1] + r
    w, pts = g
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs) - w / 2, min(ys) - w / 2, max(xs) + w / 2, max(ys) + w / 2


def _inside(shape, x, y):
    kind, _, g = shape
    if kind == "poly":
        inside, n = False, len(g)
        for i in range(n):
            (x1, y1), (x2, y2) = g[i], g[(i + 1) % n]
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        return inside
    if kind == "rect":
        x0, y0, x1, y1, r = g
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            return False
        cx, cy = min(max(x, x0 + r), x1 - r), min(max(y, y0 + r), y1 - r)
        return (x - cx) ** 2 + (y - cy) ** 2 <= r * r
    if kind == "circle":
        return (x - g[0]) ** 2 + (y - g[1]) ** 2 <= g[2] ** 2
    if kind == "ring":
        d = math.hypot(x - g[0], y - g[1])
        return abs(d - g[2]) <= g[3] / 2
    w, pts = g
    half2 = (w / 2) ** 2
    for (x1, y1), (x2, y2) in zip(pts, pts[1:]):
        dx, dy = x2 - x1, y2 - y1
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / length2))
        if (x - x1 - t * dx) ** 2 + (y - y1 - t * dy) ** 2 <= half2:
            return True
    return False


def render(shapes, size):
    """Rasterise ``shapes`` to ``size`` x ``size`` RGBA rows (painter's order)."""
    n = size * SS
    scale = n / GRID
    buf: list = [None] * (n * n)
    for shape in shapes:
        x0, y0, x1, y1 = _bbox(shape)
        color = shape[1]
        for sy in range(max(0, int(y0 * scale)), min(n, int(math.ceil(y1 * scale)) + 1)):
            y = (sy + 0.5) / scale
            row = sy * n
            for sx in range(max(0, int(x0 * scale)), min(n, int(math.ceil(x1 * scale)) + 1)):
                if _inside(shape, (sx + 0.5) / scale, y):
                    buf[row + sx] = color
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            r = g = b = a = 0
            for sy in range(py * SS, py * SS + SS):
                for sx in range(px * SS, px * SS + SS):
                    c = buf[sy * n + sx]
                    if c is not None:
                        r, g, b, a = r + c[0], g + c[1], b + c[2], a + 1
            if a:
                row += bytes((round(r / a), round(g / a), round(b / a),
                              round(255 * a / (SS * SS))))
            else:
                row += b"\0\0\0\0"
        rows.append(bytes(row))
    return rows


def png(rows, size) -> bytes:
    """Encode RGBA rows as a PNG file (no ancillary chunks: reproducible)."""
    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))
    raw = b"".join(b"\0" + r for r in rows)  # filter type 0 on every row
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


# -- the icons --------------------------------------------------------------------

def _page(fill, ink, x0=7, y0=3, x1=25, y1=29, fold=6):
    return [poly(ink, (x0 - 1, y0 - 1), (x1 - fold + 1, y0 - 1), (x1 + 1, y0 + fold - 1),
                 (x1 + 1, y1 + 1), (x0 - 1, y1 + 1)),
            poly(fill, (x0 + 1, y0 + 1), (x1 - fold, y0 + 1), (x1 - 1, y0 + fold),
                 (x1 - 1, y1 - 1), (x0 + 1, y1 - 1)),
            poly(ink, (x1 - fold, y0), (x1, y0 + fold), (x1 - fold, y0 + fold))]


def _floppy(body):
    return [rect(body, 4, 4, 28, 28, 3), rect(PAPER, 9, 6, 23, 14, 1),
            rect(body, 18, 7.5, 21, 12.5), rect(PAPER, 9, 19, 23, 28)]


def _play(color, x0=9, y0=5, x1=27):
    mid = 16
    return [poly(color, (x0, y0), (x1, mid), (x0, 32 - y0))]


def _undo(mirror=False):
    """A curved arrow over the top, pointing down on the left (right when mirrored)."""
    def f(x):
        return 32 - x if mirror else x
    curve = [(f(16 + 9 * math.cos(math.radians(-a))), 20 + 9 * math.sin(math.radians(-a)))
             for a in range(0, 181, 10)]
    return [line(INK, 3.5, *curve), poly(INK, (f(1.5), 18), (f(12.5), 18), (f(7), 27))]


def toolbar_icons():
    return {
        "new": _page(PAPER, INK) + [circle(GREEN, 24, 24, 6.5), rect(WHITE, 20.5, 23, 27.5, 25),
                                    rect(WHITE, 23, 20.5, 25, 27.5)],
        "open": [poly(INK, (2, 7), (12, 7), (15, 10), (28, 10), (28, 27), (2, 27)),
                 poly(FOLDER, (3.5, 8.5), (11.4, 8.5), (14.4, 11.5), (26.5, 11.5),
                      (26.5, 25.5), (3.5, 25.5)),
                 poly(INK, (2, 27), (7, 15), (31, 15), (27, 27)),
                 poly((255, 213, 79), (4.3, 25.5), (8, 16.5), (28.8, 16.5), (25.9, 25.5))],
        "save": _floppy(BLUE),
        "save-as": _floppy(BLUE) + [line(INK, 6, (14, 30), (29, 15)),
                                    line(ORANGE, 3.4, (14.8, 29.2), (28.4, 15.6)),
                                    poly(INK, (10.5, 31), (12, 25.5), (16, 29.5))],
        "run": _play(GREEN),
        "pause": [rect(AMBER, 7, 5, 13.5, 27, 1.5), rect(AMBER, 18.5, 5, 25, 27, 1.5)],
        "resume": [rect(GREEN, 4, 5, 9.5, 27, 1.5)] + _play(GREEN, 13, 5, 29),
        "stop": [rect(RED, 5, 5, 27, 27, 3)],
        "undo": _undo(),
        "redo": _undo(mirror=True),
        "zoom-fit": [line(INK, 2.5, (3, 10), (3, 3), (10, 3)),
                     line(INK, 2.5, (22, 3), (29, 3), (29, 10)),
                     line(INK, 2.5, (3, 22), (3, 29), (10, 29)),
                     line(INK, 2.5, (29, 22), (29, 29), (22, 29)),
                     ring(BLUE, 14.5, 14.5, 6, 3), line(BLUE, 4, (19, 19), (24.5, 24.5))],
        "layout": [line(INK, 2, (16, 9), (8, 23)), line(INK, 2, (16, 9), (24, 23)),
                   rect(BLUE, 10, 3, 22, 12, 2), rect(GREEN, 2, 20, 14, 29, 2),
                   rect(ORANGE, 18, 20, 30, 29, 2)],
        "app": [rect(BLUE, 1, 1, 31, 31, 6),
                line(WHITE, 2.6, (8, 9), (16, 16), (24, 9)),
                line(WHITE, 2.6, (16, 16), (16, 24)),
                circle(WHITE, 8, 9, 4), circle(WHITE, 24, 9, 4), circle(AMBER, 16, 16, 4.5),
                circle(WHITE, 16, 24.5, 4), circle(BLUE, 16, 16, 2)],
    }


def _badge(color):
    return [rect(color, 1.5, 1.5, 30.5, 30.5, 6)]


def category_icons():
    c = CATEGORY_COLORS
    W = WHITE
    # a vertical double helix: two sine strands, half a turn apart, with base-pair rungs
    helix_a = [(16 + 7 * math.sin(2 * math.pi * 1.25 * t / 24), 5 + 22 * t / 24)
               for t in range(25)]
    helix_b = [(32 - x, y) for x, y in helix_a]
    glyphs = {
        "files": [poly(W, (9, 5), (18, 5), (24, 11), (24, 27), (9, 27)),
                  poly((188, 170, 164), (18, 5), (24, 11), (18, 11)),
                  rect(c["files"], 12, 15, 21, 16.6), rect(c["files"], 12, 19, 21, 20.6),
                  rect(c["files"], 12, 23, 18, 24.6)],
        "text": [rect(W, 8, 7, 24, 11), rect(W, 14, 7, 18, 25)],
        "records": [line(W, 2.2, (7, 8), (25, 8), (25, 24), (7, 24), closed=True),
                    rect(W, 7, 8, 25, 13), line(W, 2, (7, 18.5), (25, 18.5)),
                    line(W, 2, (14, 8), (14, 24))],
        "shell": [line(W, 3, (7, 9), (14, 15), (7, 21)), rect(W, 16, 21, 25, 24)],
        "numbers": [rect(W, 7, 17, 11, 25), rect(W, 14, 8, 18, 25), rect(W, 21, 12, 25, 25)],
        "sequences": [line(W, 1.6, (x, y), (32 - x, y)) for x, y in
                      (helix_a[i] for i in (2, 4, 12, 14, 22))]
                     + [line(W, 2.6, *helix_a), line(W, 2.6, *helix_b)],
        "flow": [line(W, 2.6, (8, 16), (15, 16), (23, 9)), line(W, 2.6, (15, 16), (23, 23)),
                 circle(W, 8, 16, 3.2), circle(W, 23.5, 9, 3.2), circle(W, 23.5, 23, 3.2)],
        "parallel": [shape for y in (9, 16, 23) for shape in (
            line(W, 2.4, (6, y), (21, y)), poly(W, (20, y - 4), (26.5, y), (20, y + 4)))],
        "plugin": [rect(W, 9, 12, 23, 23, 2), rect(W, 12, 6, 14.5, 13), rect(W, 17.5, 6, 20, 13),
                   rect(W, 14.5, 22, 17.5, 27)],
    }
    return {f"node-{name}": _badge(c[name]) + glyph for name, glyph in glyphs.items()}


def all_icons():
    icons = dict(toolbar_icons())
    icons.update(category_icons())
    return icons


def build(out: Path, names=None) -> list[Path]:
    """Render the icons (all, or ``names``) into ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, shapes in sorted(all_icons().items()):
        if names is not None and name not in names:
            continue
        for size in (APP_SIZES if name == "app" else SIZES):
            path = out / f"{name}-{size}.png"
            path.write_bytes(png(render(shapes, size), size))
            written.append(path)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "icons")
    parser.add_argument("names", nargs="*", help="only these icons (default: all)")
    args = parser.parse_args(argv)
    files = build(args.out, set(args.names) or None)
    print(f"wrote {len(files)} PNG files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
