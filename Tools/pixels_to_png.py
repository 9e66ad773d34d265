#!/usr/bin/env python3
"""Turns `simpool-explorer render --pixels kitty|sixel` output into a PNG, as such a
terminal would show it: each picture decoded (kitty's base64 PNG with Pillow, sixel with
libsixel's `sixel2png`) and scaled onto the cells its escape names, at the column the
escape's cursor move gives; the text after the pictures drawn by ansi_to_png.

    python3 Tools/pixels_to_png.py RENDER.txt OUT.png [--cell 8x16]
"""
import argparse
import base64
import io
import os
import re
import subprocess
import sys
import tempfile

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ansi_to_png  # noqa: E402


def pictures(text):
    """(column, columns, rows, PIL image) for each picture, and the text after them."""
    found = []
    for match in re.finditer(r"\x1b7\x1b\[(\d+)G(.*?)\x1b8", text, re.S):
        column, body = int(match.group(1)) - 1, match.group(2)
        if body.startswith("\x1b_G"):
            chunks = re.findall(r"\x1b_G([^;]*);(.*?)\x1b\\", body, re.S)
            keys = dict(k.split("=") for k in chunks[0][0].split(","))
            data = base64.b64decode("".join(payload for _, payload in chunks))
            image = Image.open(io.BytesIO(data)).convert("RGB")
            found.append((column, int(keys["c"]), int(keys["r"]), image))
        elif body.startswith("\x1bP"):
            with tempfile.TemporaryDirectory() as folder:
                sixel, png = os.path.join(folder, "p.six"), os.path.join(folder, "p.png")
                with open(sixel, "w", encoding="utf-8") as f:
                    f.write(body)
                subprocess.run(["sixel2png", "-i", sixel, "-o", png], check=True)
                image = Image.open(png).convert("RGB")
            found.append((column, None, None, image))
    rows = int(re.search(r"\x1b\[(\d+)B\r", text).group(1))
    rest = text.split("\x1b[%dB\r" % rows, 1)[1]
    return found, rows, rest


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("render")
    parser.add_argument("out")
    parser.add_argument("--cell", default="8x16")
    args = parser.parse_args()
    cell_width, cell_height = (int(v) for v in args.cell.split("x"))
    with open(args.render, encoding="utf-8", newline="") as f:
        found, rows, rest = pictures(f.read())
    text = ansi_to_png.render(ansi_to_png.parse(rest), cell_width, cell_height)
    columns = max(text.width // cell_width, max(c + (w or img.width // 10) for c, w, _, img in found))
    canvas = Image.new("RGB", (columns * cell_width, rows * cell_height + text.height), ansi_to_png.DEFAULT_BG)
    for column, width, height, image in found:
        width = width or image.width // 10          # sixel: drawn at 10 × 20-pixel cells
        canvas.paste(image.resize((width * cell_width, rows * cell_height), Image.LANCZOS), (column * cell_width, 0))
    canvas.paste(text, (0, rows * cell_height))
    canvas.save(args.out)
    print("%s: %d pictures over %d×%d cells" % (args.out, len(found), columns, rows))


if __name__ == "__main__":
    main()
