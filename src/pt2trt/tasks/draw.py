"""Drawing primitives every task's drawer shares (Pillow): the palette, tags on boxes, text panels with swatches."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

PALETTE = [
    (255, 56, 56), (255, 157, 151), (255, 112, 31), (255, 178, 29), (207, 210, 49), (72, 249, 10), (146, 204, 23),
    (61, 219, 134), (26, 147, 52), (0, 212, 187), (44, 153, 168), (0, 194, 255), (52, 69, 147), (100, 115, 255),
    (0, 24, 236), (132, 56, 255), (82, 0, 133), (203, 56, 255), (255, 149, 200), (255, 55, 199),
]  # fmt: skip
LEGEND_ROWS = 12


def color(class_id: int) -> tuple[int, int, int]:
    return PALETTE[int(class_id) % len(PALETTE)]


def font(image: Image.Image) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    from PIL import ImageFont

    size = max(11, round(min(image.size) / 32))
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def tag(
    draw: ImageDraw.ImageDraw,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    at: tuple[float, float],
    text: str,
    fill: tuple[int, int, int],
    size: tuple[int, int],
) -> None:
    """A filled label with ``text`` just above ``at`` (inside the picture)."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    w, h = right - left + 6, bottom - top + 4
    x = min(max(0.0, at[0]), max(0.0, size[0] - w))
    y = at[1] - h if at[1] - h >= 0 else at[1]
    draw.rectangle((x, y, x + w, y + h), fill=fill)
    ink = (0, 0, 0) if sum(fill) > 384 else (255, 255, 255)
    draw.text((x + 3 - left, y + 2 - top), text, fill=ink, font=font)


def text_panel(
    image: Image.Image, lines: list[str], swatches: list[tuple[int, int, int] | None], *, corner: str
) -> None:
    """Lines of text on a dark panel in a corner, each with a colour swatch."""
    from PIL import ImageDraw

    if not lines:
        return
    draw = ImageDraw.Draw(image, "RGBA")
    face = font(image)
    boxes = [draw.textbbox((0, 0), line, font=face) for line in lines]
    line_h = max(b[3] - b[1] for b in boxes) + 6
    swatch = line_h - 6
    width = max(b[2] - b[0] for b in boxes) + swatch + 18
    height = line_h * len(lines) + 6
    x0 = 4 if corner == "top-left" else max(4, image.size[0] - width - 4)
    y0 = 4
    draw.rectangle((x0, y0, x0 + width, y0 + height), fill=(0, 0, 0, 170))
    for i, (line, box) in enumerate(zip(lines, boxes)):
        y = y0 + 5 + i * line_h
        colour = swatches[i]
        if colour is not None:
            draw.rectangle((x0 + 6, y, x0 + 6 + swatch, y + swatch), fill=(*colour, 255))
        draw.text((x0 + swatch + 12 - box[0], y - box[1]), line, fill=(255, 255, 255, 255), font=face)
