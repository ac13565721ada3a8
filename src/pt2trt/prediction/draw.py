"""Annotated images: class labels, boxes with class and score, mask overlays with a legend (Pillow)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pt2trt.tasks.base import Labels, Result

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

    from pt2trt.tasks.classify import Classification
    from pt2trt.tasks.detect import Detections
    from pt2trt.tasks.segment import Segmentation

PALETTE = [
    (255, 56, 56), (255, 157, 151), (255, 112, 31), (255, 178, 29), (207, 210, 49), (72, 249, 10), (146, 204, 23),
    (61, 219, 134), (26, 147, 52), (0, 212, 187), (44, 153, 168), (0, 194, 255), (52, 69, 147), (100, 115, 255),
    (0, 24, 236), (132, 56, 255), (82, 0, 133), (203, 56, 255), (255, 149, 200), (255, 55, 199),
]  # fmt: skip
LEGEND_ROWS = 12


def color(class_id: int) -> tuple[int, int, int]:
    return PALETTE[int(class_id) % len(PALETTE)]


def annotate(image: Image.Image, result: Result, labels: Labels | None = None) -> Image.Image:
    """A copy of ``image`` (the original picture) with ``result`` drawn on it."""
    from pt2trt.tasks.classify import Classification
    from pt2trt.tasks.detect import Detections
    from pt2trt.tasks.segment import Segmentation

    labels = labels or Labels()
    canvas = image.convert("RGB")
    if isinstance(result, Classification):
        return draw_classification(canvas, result, labels)
    if isinstance(result, Detections):
        return draw_detections(canvas, result, labels)
    if isinstance(result, Segmentation):
        return draw_segmentation(canvas, result, labels)
    raise TypeError(f"cannot draw a {type(result).__name__}")


def draw_classification(image: Image.Image, result: Classification, labels: Labels) -> Image.Image:
    lines = [f"{labels(c)}  {p * 100:.1f}%" for c, p in result.top]
    _text_panel(image, lines, [color(c) for c, _ in result.top], corner="top-left")
    return image


def draw_detections(image: Image.Image, dets: Detections, labels: Labels) -> Image.Image:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    font = _font(image)
    width = max(2, round(min(image.size) / 250))
    for box, score, cls in reversed(list(zip(dets.boxes, dets.scores, dets.classes))):  # best drawn last, on top
        x1, y1, x2, y2 = (float(v) for v in box)
        draw.rectangle((x1, y1, x2, y2), outline=color(cls), width=width)
        _tag(draw, font, (x1, y1), f"{labels(cls)} {score:.2f}", color(cls), image.size)
    return image


def draw_segmentation(image: Image.Image, seg: Segmentation, labels: Labels, alpha: float = 0.5) -> Image.Image:
    from PIL import Image

    pixels = np.asarray(image, dtype=np.float32)
    if seg.instances is not None and seg.instance_masks is not None:
        overlay = pixels.copy()
        covered = np.zeros(seg.mask.shape, dtype=bool)
        for i in np.argsort(seg.instances.scores, kind="stable"):
            overlay[seg.instance_masks[i]] = color(seg.instances.classes[i])
            covered |= seg.instance_masks[i]
        pixels[covered] = (1 - alpha) * pixels[covered] + alpha * overlay[covered]
        image = Image.fromarray(pixels.astype(np.uint8))
        image = draw_detections(image, seg.instances, labels)
        present = sorted({int(c) for c in seg.instances.classes})
        rows = [(c, f"{labels(c)}") for c in present]
    else:
        colours = np.array([color(c) for c in range(int(seg.mask.max(initial=0)) + 1)], dtype=np.float32)
        pixels = (1 - alpha) * pixels + alpha * colours[seg.mask.clip(0)]
        image = Image.fromarray(pixels.astype(np.uint8))
        total = max(1, seg.mask.size)
        rows = [(c, f"{labels(c)}  {n / total * 100:.1f}%") for c, n in seg.class_pixels()]
    if len(rows) > LEGEND_ROWS:
        rows = [*rows[: LEGEND_ROWS - 1], (-1, f"+{len(rows) - LEGEND_ROWS + 1} more")]
    _text_panel(image, [text for _, text in rows], [color(c) if c >= 0 else None for c, _ in rows], corner="top-right")
    return image


# -- helpers ---------------------------------------------------------------------------------------------------------
def _font(image: Image.Image) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    from PIL import ImageFont

    size = max(11, round(min(image.size) / 32))
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _tag(
    draw: ImageDraw.ImageDraw,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    at: tuple[float, float],
    text: str,
    fill: tuple[int, int, int],
    size: tuple[int, int],
) -> None:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    w, h = right - left + 6, bottom - top + 4
    x = min(max(0.0, at[0]), max(0.0, size[0] - w))
    y = at[1] - h if at[1] - h >= 0 else at[1]
    draw.rectangle((x, y, x + w, y + h), fill=fill)
    ink = (0, 0, 0) if sum(fill) > 384 else (255, 255, 255)
    draw.text((x + 3 - left, y + 2 - top), text, fill=ink, font=font)


def _text_panel(
    image: Image.Image, lines: list[str], swatches: list[tuple[int, int, int] | None], *, corner: str
) -> None:
    """Lines of text on a dark panel in a corner, each with a colour swatch."""
    from PIL import ImageDraw

    if not lines:
        return
    draw = ImageDraw.Draw(image, "RGBA")
    font = _font(image)
    boxes = [draw.textbbox((0, 0), line, font=font) for line in lines]
    line_h = max(b[3] - b[1] for b in boxes) + 6
    swatch = line_h - 6
    width = max(b[2] - b[0] for b in boxes) + swatch + 18
    height = line_h * len(lines) + 6
    x0 = 4 if corner == "top-left" else max(4, image.size[0] - width - 4)
    y0 = 4
    draw.rectangle((x0, y0, x0 + width, y0 + height), fill=(0, 0, 0, 170))
    for i, (line, box) in enumerate(zip(lines, boxes)):
        y = y0 + 5 + i * line_h
        if swatches[i] is not None:
            draw.rectangle((x0 + 6, y, x0 + 6 + swatch, y + swatch), fill=(*swatches[i], 255))
        draw.text((x0 + swatch + 12 - box[0], y - box[1]), line, fill=(255, 255, 255, 255), font=font)
