#!/usr/bin/env python3
"""Draw the app icons (static/appIcon*.png) with the standard library only.

A shield with three claw slashes.  Run from anywhere; it rewrites the four
PNGs under splunk-app/clawdstrike/static/.  The output is deterministic.
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC = os.path.join(HERE, "..", "clawdstrike", "static")


def png(path, size, fg, bg):
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter type 0
        for x in range(size):
            u, v = (x + 0.5) / size, (y + 0.5) / size  # 0..1
            # shield: straight top part, then tapering to a point
            half = 0.40 if v < 0.55 else 0.40 * max(0.0, (0.95 - v) / 0.40)
            inside = 0.08 <= v <= 0.95 and abs(u - 0.5) <= half
            # three diagonal claw slashes
            slash = any(abs((u - 0.5) - (v - 0.5) * 0.55 - off) < 0.045
                        for off in (-0.17, 0.0, 0.17)) and 0.2 <= v <= 0.8
            if inside and not slash:
                row += bytes(fg) + b"\xff"
            elif inside:
                row += bytes(bg) + b"\xff"
            else:
                row += bytes(bg) + (b"\xff" if bg != (0, 0, 0) else b"\x00")
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # RGBA
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(data)


def main():
    os.makedirs(STATIC, exist_ok=True)
    red, white, dark = (0xDC, 0x4E, 0x41), (0xFF, 0xFF, 0xFF), (0, 0, 0)
    # appIcon: red shield on transparent; appIconAlt (dark nav bar): white shield
    png(os.path.join(STATIC, "appIcon.png"), 36, red, dark)
    png(os.path.join(STATIC, "appIcon_2x.png"), 72, red, dark)
    png(os.path.join(STATIC, "appIconAlt.png"), 36, white, dark)
    png(os.path.join(STATIC, "appIconAlt_2x.png"), 72, white, dark)


if __name__ == "__main__":
    main()
