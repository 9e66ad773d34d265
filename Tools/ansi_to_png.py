#!/usr/bin/env python3
"""Turns a terminal screen captured with `tmux capture-pane -p -e` into a PNG.

    python3 Tools/ansi_to_png.py SCREEN.ansi OUT.png [--cell 8x16]

Understands what the explorer draws: SGR colours (the 16 colours, the 256-colour palette,
24-bit), bold and reverse. Attributes carry over line ends, as tmux writes them. The half,
full and quadrant blocks (▀ ▄ ▌ ▐ █ and ▘…▟) and the sextants (U+1FB00–U+1FB3B) are drawn
as rectangles from the sub-cells they cover, foreground over background, as terminals draw
them, so pictures are exact at any cell size and
need no font with the Legacy Computing block; other characters come from DejaVu Sans Mono
(Debian's fonts-dejavu-core).
"""
import argparse
import re

from PIL import Image, ImageDraw, ImageFont

BASE16 = [(0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16), (36, 114, 200), (188, 63, 188), (17, 168, 205),
          (229, 229, 229), (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67), (59, 142, 234),
          (214, 112, 214), (41, 184, 219), (255, 255, 255)]
DEFAULT_FG, DEFAULT_BG = (220, 220, 220), (24, 24, 24)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"


def palette(index):
    if index < 16:
        return BASE16[index]
    if index < 232:
        index -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return steps[index // 36], steps[(index // 6) % 6], steps[index % 6]
    level = 8 + 10 * (index - 232)
    return level, level, level


def parse(text):
    """Rows of cells (character, foreground, background, bold)."""
    fg, bg, bold, reverse = None, None, False, False
    rows = []
    for line in text.split("\n"):
        cells = []
        position = 0
        for match in re.finditer(r"\x1b\[([0-9;:]*)m|([^\x1b])", line):
            if match.group(2) is not None:
                f, b = (bg or DEFAULT_BG, fg or DEFAULT_FG) if reverse else (fg or DEFAULT_FG, bg or DEFAULT_BG)
                cells.append((match.group(2), f, b, bold))
                continue
            codes = [int(c) if c else 0 for c in re.split(r"[;:]", match.group(1) or "0")]
            i = 0
            while i < len(codes):
                code = codes[i]
                if code == 0:
                    fg, bg, bold, reverse = None, None, False, False
                elif code == 1:
                    bold = True
                elif code == 22:
                    bold = False
                elif code == 7:
                    reverse = True
                elif code == 27:
                    reverse = False
                elif 30 <= code <= 37 or 90 <= code <= 97:
                    fg = BASE16[code - 30 if code < 90 else code - 82]
                elif 40 <= code <= 47 or 100 <= code <= 107:
                    bg = BASE16[code - 40 if code < 100 else code - 92]
                elif code == 39:
                    fg = None
                elif code == 49:
                    bg = None
                elif code in (38, 48) and i + 1 < len(codes):
                    if codes[i + 1] == 5 and i + 2 < len(codes):
                        color = palette(codes[i + 2])
                        i += 2
                    elif codes[i + 1] == 2 and i + 4 < len(codes):
                        color = tuple(codes[i + 2:i + 5])
                        i += 4
                    else:
                        color = None
                    if code == 38:
                        fg = color
                    else:
                        bg = color
                i += 1
            position += 1
        rows.append(cells)
    while rows and not rows[-1]:
        rows.pop()
    return rows


QUADRANTS = " ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"


def block_cover(character):
    """(across, down, mask) of a block element, bit row·across + column set where the
    foreground covers; None for other characters."""
    if character in QUADRANTS:
        return 2, 2, QUADRANTS.index(character)
    code = ord(character)
    if 0x1FB00 <= code <= 0x1FB3B:
        mask = code - 0x1FB00 + 1
        mask += mask >= 21
        mask += mask >= 42
        return 2, 3, mask
    return None


def render(rows, cell_width, cell_height):
    columns = max((len(r) for r in rows), default=1)
    image = Image.new("RGB", (columns * cell_width, len(rows) * cell_height), DEFAULT_BG)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, cell_height - 3)
    bold_font = ImageFont.truetype(BOLD_FONT, cell_height - 3)
    for y, row in enumerate(rows):
        for x, (character, fg, bg, bold) in enumerate(row):
            left, top = x * cell_width, y * cell_height
            box = [left, top, left + cell_width - 1, top + cell_height - 1]
            draw.rectangle(box, fill=bg)
            cover = block_cover(character)
            if cover:
                across, down, mask = cover
                for i in range(across * down):
                    if mask >> i & 1:
                        cx, cy = i % across, i // across
                        x0 = left + cx * cell_width // across
                        x1 = left + (cx + 1) * cell_width // across - 1
                        y0 = top + cy * cell_height // down
                        y1 = top + (cy + 1) * cell_height // down - 1
                        draw.rectangle([x0, y0, x1, y1], fill=fg)
                continue
            if character != " ":
                draw.text((left, top + 1), character, fill=fg, font=bold_font if bold else font)
    return image


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("screen")
    parser.add_argument("out")
    parser.add_argument("--cell", default="8x16", help="cell size in pixels, WIDTHxHEIGHT")
    args = parser.parse_args()
    width, height = (int(v) for v in args.cell.split("x"))
    with open(args.screen, encoding="utf-8") as f:
        rows = parse(f.read())
    render(rows, width, height).save(args.out)
    print("%s: %d×%d cells" % (args.out, max(len(r) for r in rows), len(rows)))


if __name__ == "__main__":
    main()
