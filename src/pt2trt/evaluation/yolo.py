"""Detection data in YOLO form: one ``.txt`` per picture (``images/x.jpg`` -> ``labels/x.txt``, or beside it), a line
``class cx cy w h`` per box in coordinates normalised to the picture (a polygon's points are read as its bounding
box). ``DATA`` is a folder, or an ultralytics data ``.yaml`` (``path``, ``val``, ``names``).

The boxes become the COCO form of :class:`DetectionData` (category id = YOLO class index), so that every detection
dataset is scored the same way, by pycocotools.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.errors import Pt2trtError
from pt2trt.evaluation.datasets import DetectionData, sample_of
from pt2trt.evaluation.pictures import image_files, picture_size

if TYPE_CHECKING:
    from pt2trt.tasks import Labels

#: normalised coordinates may overshoot [0, 1] by this much (rounding in the labelling tools)
NORMALISED_TOLERANCE = 1e-3


def label_path(image: Path) -> Path:
    """ultralytics' rule: the last ``/images/`` of the path becomes ``/labels/``, the suffix ``.txt``."""
    text = str(image)
    marker, replacement = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    if marker in text:
        head, tail = text.rsplit(marker, 1)
        text = head + replacement + tail
    return Path(text).with_suffix(".txt")


def load_yolo(
    data: Path, labels: Labels | None = None, *, split: str | None = None, images: Path | None = None
) -> DetectionData:
    names: dict[int, str] = {}
    if data.is_file() and data.suffix.lower() in (".yaml", ".yml"):
        folders, names = _from_yaml(data, split)
    elif data.is_dir():
        folders = [images or (data / "images" if (data / "images").is_dir() else data)]
    else:
        raise Pt2trtError(
            f"--data {data} is neither a COCO .json, a YOLO data .yaml nor a folder",
            "Give a COCO JSON file, a YOLO data .yaml, or a folder with images/ and labels/",
        )
    if images is not None:
        folders = [images]
    if not names and labels is not None and labels.names:
        names = dict(labels.names)
    files = [f for folder in folders for f in _pictures(folder)]
    root = folders[0]
    notes: list[str] = []
    coco_images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for image_id, path in enumerate(files, start=1):
        width, height = picture_size(path)
        image = {"id": image_id, "file_name": str(path), "width": width, "height": height}
        coco_images.append(image)
        for box, cls in _read_labels(path, label_path(path), image, names):
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": cls,
                    "bbox": box,
                    "area": box[2] * box[3],
                    "iscrowd": 0,
                }
            )
    if not names:
        seen = sorted({int(a["category_id"]) for a in annotations})
        names = {c: str(c) for c in range(max(seen, default=-1) + 1)}
        notes.append(f"no class names given: classes 0-{len(names) - 1} are named by their index (pass --labels)")
    return DetectionData(
        root=root,
        samples=[sample_of(p, root) for p in files],
        class_names=names,
        format="YOLO txt",
        notes=notes,
        coco={"images": coco_images, "annotations": annotations, "categories": _categories(names)},
        image_ids=[int(img["id"]) for img in coco_images],
    )


def _categories(names: dict[int, str]) -> list[dict[str, Any]]:
    return [{"id": c, "name": n} for c, n in sorted(names.items())]


def _pictures(folder: Path) -> list[Path]:
    if folder.is_file() and folder.suffix == ".txt":  # a list of picture paths, relative to the list's folder
        lines = [line.strip() for line in folder.read_text(encoding="utf-8").splitlines() if line.strip()]
        files = [(folder.parent / line).resolve() if not Path(line).is_absolute() else Path(line) for line in lines]
        missing = [f for f in files if not f.is_file()]
        if missing:
            raise Pt2trtError(f"{folder} lists {missing[0]}, which does not exist", "Fix the list, or add the picture")
        return files
    if not folder.is_dir():
        raise Pt2trtError(f"image folder {folder} not found", "Check the data .yaml's path and split, or --images")
    files = image_files(folder)
    if not files:
        raise Pt2trtError(f"{folder} holds no pictures", "Point --data (or --images) at the folder of the pictures")
    return files


def _from_yaml(path: Path, split: str | None) -> tuple[list[Path], dict[int, str]]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise Pt2trtError(
            f"cannot read YOLO data file {path}: {str(exc).splitlines()[0]}", "Give a valid YAML data file"
        ) from exc
    if not isinstance(data, dict):
        raise Pt2trtError(f"{path} is not a YOLO data file (a mapping)", "Give path:, val: and names: entries")
    key = split or "val"
    if key not in data:
        raise Pt2trtError(f"{path} has no '{key}' entry", "Pass --split with one of its splits (val, test, train)")
    root = Path(str(data.get("path") or "."))
    root = root if root.is_absolute() else path.parent / root
    entries = data[key] if isinstance(data[key], list) else [data[key]]
    raw = data.get("names") or {}
    names = dict(enumerate(raw)) if isinstance(raw, list) else {int(k): str(v) for k, v in raw.items()}
    return [root / str(e) for e in entries], {int(k): str(v) for k, v in names.items()}


def _read_labels(
    image_path: Path, path: Path, image: dict[str, Any], names: dict[int, str]
) -> list[tuple[list[float], int]]:
    if not path.is_file():
        raise Pt2trtError(
            f"no label file for {image_path.name} (looked for {path})",
            "Add it; a picture with no objects needs an empty .txt file",
        )
    width, height = image["width"], image["height"]
    boxes = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            values = [float(v) for v in line.split()]
        except ValueError:
            raise Pt2trtError(f"{where}: '{line.strip()}' is not 'class cx cy w h'", "Fix the line") from None
        if len(values) < 5 or (len(values) > 5 and len(values) % 2 == 0) or not values[0].is_integer():
            raise Pt2trtError(f"{where}: '{line.strip()}' is not 'class cx cy w h' (or a polygon)", "Fix the line")
        cls = int(values[0])
        if cls < 0 or (names and cls not in names):
            raise Pt2trtError(
                f"{where}: class {cls} is not among the {len(names)} class names: unknown class",
                "Fix the class index, or the names in the data .yaml (--labels)",
            )
        x1, y1, x2, y2 = _normalised_box(values[1:])
        t = NORMALISED_TOLERANCE
        if min(x1, y1) < -t or max(x2, y2) > 1 + t:
            shown = " ".join(f"{v:g}" for v in values[1:5])
            raise Pt2trtError(
                f"{where}: box ({shown}) reaches outside the image (normalised coordinates must be 0-1)",
                "Fix the box; YOLO label files hold coordinates divided by the picture's width and height",
            )
        if x2 <= x1 or y2 <= y1:
            raise Pt2trtError(f"{where}: the box is empty", "Remove the line, or fix its size")
        box = [x1 * width, y1 * height, (x2 - x1) * width, (y2 - y1) * height]
        boxes.append((box, cls))
    return boxes


def _normalised_box(values: list[float]) -> tuple[float, float, float, float]:
    if len(values) == 4:
        cx, cy, w, h = values
        return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    xs, ys = values[0::2], values[1::2]  # a polygon (segmentation labels): its bounding box
    return min(xs), min(ys), max(xs), max(ys)
