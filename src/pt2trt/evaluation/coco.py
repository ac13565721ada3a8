"""Detection data in COCO JSON form: ``images`` (id, file_name, width, height), ``annotations`` (image_id,
category_id, bbox = [x, y, width, height] in pixels, iscrowd) and ``categories`` (id, name).

Annotation ids are renumbered from 1 for the evaluation: pycocotools records a match as the matched annotation's
id, so an annotation with id 0 (Roboflow exports start there) would never count as matched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pt2trt.errors import Pt2trtError
from pt2trt.evaluation.datasets import DetectionData, sample_of
from pt2trt.evaluation.pictures import picture_size

#: how far (pixels) a box may reach past its image's border before it is refused: rounding in the annotation tools
BORDER_TOLERANCE = 1.0
_JSON_HINT = "Give a COCO JSON file with images, annotations and categories lists"


def load_coco(path: Path, images: Path | None = None) -> DetectionData:
    """The COCO JSON file at ``path``; pictures are looked up in ``images`` (default: the file's folder)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Pt2trtError(f"cannot read COCO JSON {path}: {str(exc).splitlines()[0]}", _JSON_HINT) from exc
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("images", "categories")):
        raise Pt2trtError(f"{path} is not a COCO JSON file (no images and categories lists)", _JSON_HINT)
    folder = images if images is not None else path.parent
    if not folder.is_dir():
        raise Pt2trtError(f"--images {folder} is not a folder", "Pass --images DIR, the folder of the pictures")
    categories = _categories(path, data["categories"])
    pictures = _images(path, data["images"], folder)
    annotations = _annotations(path, data.get("annotations") or [], pictures, categories)
    samples = [sample_of(folder / str(img["file_name"]), folder) for img in pictures.values()]
    coco = {
        "images": list(pictures.values()),
        "annotations": annotations,
        "categories": [{"id": c, "name": n} for c, n in categories.items()],
    }
    return DetectionData(
        root=folder,
        samples=samples,
        class_names=categories,
        format=f"COCO JSON {path.name}",
        coco=coco,
        image_ids=list(pictures),
    )


def _categories(path: Path, items: list[Any]) -> dict[int, str]:
    out: dict[int, str] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), int):
            raise Pt2trtError(f"{path}: category {item!r} has no integer id", "Give each category an integer id")
        if item["id"] in out:
            raise Pt2trtError(f"{path}: category id {item['id']} is listed twice", "Give each category its own id")
        out[item["id"]] = str(item.get("name", item["id"]))
    if not out:
        raise Pt2trtError(f"{path} lists no categories", "Add the categories (id, name) the boxes belong to")
    return out


def _images(path: Path, items: list[Any], folder: Path) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), int) or not item.get("file_name"):
            raise Pt2trtError(f"{path}: image entry {item!r} needs an id and a file_name", _JSON_HINT)
        if item["id"] in out:
            raise Pt2trtError(f"{path}: image id {item['id']} is listed twice", "Give each image its own id")
        file = folder / str(item["file_name"])
        if not file.is_file():
            raise Pt2trtError(
                f"image {item['file_name']} (listed in {path.name}) not found in {folder}",
                "Pass --images DIR, the folder holding the pictures, or remove the entry",
            )
        width, height = picture_size(file)
        listed = (item.get("width"), item.get("height"))
        if listed != (None, None) and listed != (width, height):
            raise Pt2trtError(
                f"image {item['file_name']} is {width}x{height} but {path.name} says {listed[0]}x{listed[1]}",
                "Fix its width/height in the JSON (a picture rotated by its EXIF orientation is read upright)",
            )
        out[item["id"]] = {"id": item["id"], "file_name": str(item["file_name"]), "width": width, "height": height}
    if not out:
        raise Pt2trtError(f"{path} lists no images", "Add the images entries (id, file_name, width, height)")
    return out


def _annotations(
    path: Path, items: list[Any], images: dict[int, dict[str, Any]], categories: dict[int, str]
) -> list[dict[str, Any]]:
    out = []
    for number, item in enumerate(items, start=1):
        where = f"{path.name}: annotation {item.get('id', number) if isinstance(item, dict) else number}"
        if not isinstance(item, dict):
            raise Pt2trtError(f"{where} is not an object", _JSON_HINT)
        image = images.get(item.get("image_id"))  # type: ignore[arg-type]
        if image is None:
            raise Pt2trtError(
                f"{where} refers to image {item.get('image_id')!r}, which the file does not list",
                "Add the image entry, or remove the annotation",
            )
        if item.get("category_id") not in categories:
            raise Pt2trtError(
                f"{where} has category {item.get('category_id')!r}, which is not among the categories: unknown class",
                "Add the category, or fix the annotation's category_id",
            )
        box = _box(where, item.get("bbox"), image)
        out.append(
            {
                "id": number,
                "image_id": image["id"],
                "category_id": item["category_id"],
                "bbox": box,
                "area": float(item.get("area") or box[2] * box[3]),
                "iscrowd": int(bool(item.get("iscrowd", 0))),
            }
        )
    return out


def _box(where: str, bbox: Any, image: dict[str, Any]) -> list[float]:
    try:
        x, y, w, h = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise Pt2trtError(f"{where}: bbox {bbox!r} is not [x, y, width, height]", _JSON_HINT) from None
    if not w > 0 or not h > 0:
        raise Pt2trtError(f"{where}: box [{x:g}, {y:g}, {w:g}, {h:g}] is empty", "Remove it, or fix its size")
    check_inside(where, (x, y, x + w, y + h), image, f"[{x:g}, {y:g}, {w:g}, {h:g}]")
    return [x, y, w, h]


def check_inside(where: str, xyxy: tuple[float, float, float, float], image: dict[str, Any], shown: str) -> None:
    """A box reaching past its image (more than :data:`BORDER_TOLERANCE` pixels) is a user error."""
    x1, y1, x2, y2 = xyxy
    width, height = image["width"], image["height"]
    t = BORDER_TOLERANCE
    if x1 < -t or y1 < -t or x2 > width + t or y2 > height + t:
        raise Pt2trtError(
            f"{where}: box {shown} on {image['file_name']} ({width}x{height}) reaches outside the image",
            "Fix the box, or the image's size; normalised (0-1) coordinates belong in YOLO label files, not COCO JSON",
        )
