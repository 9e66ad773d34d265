#!/usr/bin/env python3
"""Hand-built BMP, netpbm, PNG and JPEG files at the edges where decoders disagree, with
what Pillow makes of each: its RGB pixels, or the error it raises.

The files are written byte by byte here (not by Pillow's encoders), so that they carry the
layouts Pillow's own writers never produce: 16-bit channel masks, run-length skips, odd
maxvals, truncated data, oversized palettes, damaged ancillary chunks. The Swift tests
(`Tests/ImagingTests/PillowEdgeTests.swift`) decode each file and compare.

    Tools/.venv/bin/python Tools/make_decoder_edge_fixtures.py

Writes Tests/Fixtures/images/edges/ (about 20 kB) and its manifest.json.
"""
import io
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "images", "edges")
rng = np.random.default_rng(19)


# ------------------------------------------------------------------ BMP builders ----

def bmp(width, height, bits, pixel_rows, *, compression=0, masks=None, palette=None,
        colors_field=None, header_size=40, top_down=False, data=None):
    """A BMP with a BITMAPINFOHEADER (or a larger one), rows given bottom-up unless
    top_down; `data` replaces the pixel array (run-length streams)."""
    palette = palette or []
    if data is None:
        stride = ((width * bits + 31) // 32) * 4
        body = bytearray()
        for row in pixel_rows:
            packed = bytearray(row)
            packed += b"\0" * (stride - len(packed))
            body += packed
        data = bytes(body)
    extra = b""
    if masks is not None and header_size == 40:
        extra = b"".join(struct.pack("<I", m) for m in masks)
    info = struct.pack("<IiiHHIIiiII", header_size, width, -height if top_down else height, 1, bits,
                       compression, len(data), 2835, 2835,
                       len(palette) if colors_field is None else colors_field, 0)
    if header_size > 40:
        tail = b"".join(struct.pack("<I", m) for m in (masks or [0, 0, 0, 0]))
        tail += b"\0" * (header_size - 40 - len(tail))
        info += tail
    table = b"".join(bytes((b, g, r, 0)) for (r, g, b) in palette)
    offset = 14 + len(info) + len(extra) + len(table)
    head = b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset)
    return head + info + extra + table + data


def pack16(values):
    return b"".join(struct.pack("<H", v) for v in values)


def pack32(values):
    return b"".join(struct.pack("<I", v) for v in values)


def random_palette(n):
    return [tuple(int(x) for x in rng.integers(0, 256, 3)) for _ in range(n)]


def bmp_cases():
    cases = {}
    w, h = 7, 5
    values = rng.integers(0, 1 << 16, (h, w))
    rows = [pack16(int(v) for v in row) for row in values]
    cases["rgb555_plain.bmp"] = bmp(w, h, 16, rows)
    cases["rgb555_bitfields.bmp"] = bmp(w, h, 16, rows, compression=3, masks=[0x7C00, 0x03E0, 0x001F])
    cases["rgb565_bitfields.bmp"] = bmp(w, h, 16, rows, compression=3, masks=[0xF800, 0x07E0, 0x001F])
    cases["rgb565_v5_header.bmp"] = bmp(w, h, 16, rows, compression=3, masks=[0xF800, 0x07E0, 0x001F, 0],
                                        header_size=124)
    cases["rgb444_bitfields.bmp"] = bmp(w, h, 16, rows, compression=3, masks=[0x0F00, 0x00F0, 0x000F])
    values32 = rng.integers(0, 1 << 32, (h, w), dtype=np.uint64)
    rows32 = [pack32(int(v) for v in row) for row in values32]
    cases["bgrx32_bitfields.bmp"] = bmp(w, h, 32, rows32, compression=3, masks=[0xFF0000, 0xFF00, 0xFF])
    cases["rgb101010_bitfields.bmp"] = bmp(w, h, 32, rows32, compression=3,
                                           masks=[0x3FF00000, 0x000FFC00, 0x000003FF])

    # Run-length data: a delta, an early end of line, a run past the row's end, then the
    # end of the bitmap; skipped pixels take palette entry 0 in Pillow.
    palette = random_palette(16)
    w, h = 8, 4
    rle8 = bytes([
        3, 5,            # three pixels of index 5
        0, 2, 2, 1,      # delta: right 2, down 1
        0, 3, 7, 8, 9, 0,  # literal run of three, padded to a word
        0, 0,            # end of line
        12, 4,           # a run longer than the row: clamped
        0, 0,
        8, 6,
        0, 1,            # end of bitmap
    ])
    cases["rle8_skips.bmp"] = bmp(w, h, 8, None, compression=1, palette=palette, data=rle8)
    rle4 = bytes([
        5, 0x3A,         # five pixels alternating 3, 10
        0, 0,            # end of line
        0, 2, 1, 1,      # delta right 1, down 1
        0, 3, 0x12, 0x30,  # literal 1, 2, 3 (two bytes)
        0, 0,
        8, 0x45,
        0, 1,
    ])
    cases["rle4_skips.bmp"] = bmp(w, h, 4, None, compression=2, palette=palette, data=rle4)
    # A literal run longer than what is left of its row continues on the next one.
    rle8_wrap = bytes([0, 2, 5, 1, 0, 5, 1, 2, 3, 4, 5, 0, 0, 0, 8, 9, 0, 1])
    cases["rle8_literal_wraps.bmp"] = bmp(w, h, 8, None, compression=1, palette=palette, data=rle8_wrap)
    cases["rle8_stops_at_bitmap_end.bmp"] = bmp(w, h, 8, None, compression=1, palette=palette,
                                                data=bytes([8, 1, 0, 0, 2, 2, 0, 1]))
    cases["rle8_ends_early.bmp"] = bmp(w, h, 8, None, compression=1, palette=palette, data=bytes([3, 5, 0, 0, 4]))
    cases["rle8_no_end_marker.bmp"] = bmp(w, h, 8, None, compression=1, palette=palette,
                                          data=bytes([8, 1, 0, 0, 8, 2, 0, 0, 8, 3, 0, 0, 8, 4]))

    # Palettes: fewer entries than indices used; more entries than the bit depth holds.
    w, h = 6, 3
    indices = [bytes(int(v) for v in rng.integers(0, 8, w)) for _ in range(h)]
    cases["palette_short.bmp"] = bmp(w, h, 8, indices, palette=random_palette(4))
    cases["palette_oversized.bmp"] = bmp(w, h, 4, [bytes([0x12, 0x34, 0x56]) for _ in range(h)],
                                         palette=random_palette(300))
    cases["palette_count_huge.bmp"] = bmp(w, h, 8, indices, palette=random_palette(8), colors_field=70000)

    # Truncated pixel array.
    full = bmp(5, 4, 24, [bytes(int(v) for v in rng.integers(0, 256, 15)) for _ in range(4)])
    cases["rgb24_truncated.bmp"] = full[:-10]
    return cases


# --------------------------------------------------------------- netpbm builders ----

def netpbm_cases():
    cases = {}
    cases["gray_maxval10.pgm"] = b"P5\n6 2\n10\n" + bytes([0, 1, 3, 5, 7, 9, 10, 2, 4, 6, 8, 3])
    cases["gray_maxval10_over.pgm"] = b"P5\n3 1\n10\n" + bytes([3, 11, 200])
    cases["gray_maxval7_ascii.pgm"] = b"P2\n4 2\n7\n0 1 2 3\n4 5 6 7\n"
    cases["gray_maxval7_ascii_over.pgm"] = b"P2\n2 1\n7\n3 9\n"
    cases["rgb_maxval1000.ppm"] = b"P6\n3 2\n1000\n" + b"".join(
        struct.pack(">H", v) for v in [0, 1, 2, 499, 500, 501, 998, 999, 1000, 3, 5, 1500, 250, 750, 2, 4, 6, 8])
    cases["rgb_maxval65535.ppm"] = b"P6\n2 1\n65535\n" + b"".join(
        struct.pack(">H", v) for v in [0, 128, 129, 32767, 32768, 65535])
    cases["rgb_maxval3_ascii.ppm"] = b"P3\n2 2\n3\n0 1 2  3 2 1\n1 1 1  2 2 2\n"
    cases["bitmap.pbm"] = b"P4\n10 2\n" + bytes([0b10110011, 0b01000000, 0b01010101, 0b11000000])
    cases["bitmap_ascii.pbm"] = b"P1\n3 2\n1 0 1\n0 1 0\n"
    # Declares 9999 × 10000 pixels in a few hundred bytes.
    cases["declares_huge.ppm"] = b"P6\n9999 10000\n255\n" + bytes(300)
    cases["gray_truncated.pgm"] = b"P5\n4 4\n255\n" + bytes(10)
    return cases


# ------------------------------------------------------------- PNG / JPEG damage ----

def png_chunk(kind, body, crc=None):
    crc = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc & 0xFFFFFFFF)


def png_with(extra_chunks, width=4, height=3):
    raw = b"".join(b"\0" + bytes(int(v) for v in rng.integers(0, 256, width * 3)) for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + b"".join(extra_chunks)
            + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))


def damaged_cases():
    cases = {}
    cases["text_bad_crc.png"] = png_with([png_chunk(b"tEXt", b"Comment\0hello", crc=0x12345678)])
    cases["text_good.png"] = png_with([png_chunk(b"tEXt", b"Comment\0hello")])
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8), "RGB").save(buffer, "JPEG", quality=90)
    jpeg = buffer.getvalue()
    # Stray bytes between two header segments: libjpeg skips them and warns of
    # "extraneous bytes before marker"; Pillow shows the picture without a word.
    app0_end = 4 + struct.unpack(">H", jpeg[4:6])[0]
    cases["extraneous_bytes.jpg"] = jpeg[:app0_end] + b"\x00\x11\x22" + jpeg[app0_end:]
    cases["truncated.jpg"] = jpeg[: len(jpeg) * 2 // 3]
    return cases


def pillow_outcome(data):
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            rgb = image.convert("RGB")
            return {"width": rgb.width, "height": rgb.height, "mode": image.mode,
                    "rgb": np.asarray(rgb, dtype=np.uint8).tobytes().hex()}
    except Exception as error:  # Pillow's refusal is the reference
        return {"refused": f"{type(error).__name__}: {error}"}


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {}
    for name, data in {**bmp_cases(), **netpbm_cases(), **damaged_cases()}.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        manifest[name] = pillow_outcome(data)
        print(name, manifest[name].get("refused", f"{manifest[name].get('width')}×{manifest[name].get('height')}"))
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"pillow": Image.__version__, "files": manifest}, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
