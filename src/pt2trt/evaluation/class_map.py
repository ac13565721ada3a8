"""Which dataset category each of a detector's classes is: explicit, by name, or guessed and said aloud.

A detector numbers its classes 0..N-1 (YOLO: COCO's 80; torchvision: COCO's 91 ids, background at 0); a COCO JSON
file numbers categories its own way (COCO itself: 1..90 with gaps). The map is, in order:

1. ``--class-map``: ``identity`` (class = category id), ``coco80`` (class i = the i-th of COCO's 80 categories, as
   YOLO counts them), or a JSON/YAML file ``{class: category_id}``;
2. by name, when the model's class names are known (``--labels``, or the ``names`` an ultralytics export records):
   each class goes to the category of the same name (case, spaces and underscores aside);
3. guessed from the numbers, and said aloud: category ids 0..K-1 -> identity; a model with 80 classes and COCO's
   category ids -> coco80; a model with 91 classes (torchvision) -> identity; as many classes as categories -> the
   i-th category by id. Otherwise pt2trt stops and asks for ``--class-map``.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.evaluation.imagefolder import normalise

CLASS_MAP_HINT = "Pass --class-map identity, coco80, or a JSON/YAML file {class index: category id}"


@dataclass
class ClassMap:
    """Model class index -> dataset category id, how it was decided, and classes without a category."""

    mapping: dict[int, int]
    rule: str
    guessed: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "guessed": self.guessed, "classes": len(self.mapping)}


def coco80_ids() -> list[int]:
    """COCO's category id of each of YOLO's 80 classes (from the shipped coco80 and coco91 label sets)."""
    from pt2trt.tasks import Labels

    coco91 = Labels.builtin("coco91-torchvision").names
    by_name = {name: i for i, name in coco91.items() if name != "N/A"}
    return [by_name[name] for _, name in sorted(Labels.builtin("coco80").names.items())]


def recorded_names(metadata: dict[str, str]) -> dict[int, str]:
    """Class names a model carries in its metadata (ultralytics writes ``names: {0: 'person', ...}``); names that
    are only the class numbers (a model built from its architecture file, without a dataset) are none."""
    text = metadata.get("names")
    if not text:
        return {}
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return {}
    if isinstance(value, list):
        value = dict(enumerate(value))
    if not isinstance(value, dict):
        return {}
    try:
        names = {int(k): str(v) for k, v in value.items()}
    except (TypeError, ValueError):
        return {}
    # a model built without a dataset records its class indices as names ({0: '0', ...}): no names at all
    return {} if all(name == str(index) for index, name in names.items()) else names


def resolve_class_map(
    choice: str | Path | None,
    categories: dict[int, str],
    model_names: dict[int, str],
    class_count: int | None,
    layout: str | None,
) -> ClassMap:
    """The map for one model (see the module docstring); ``class_count``/``layout`` as decoded from its outputs."""
    if choice is not None:
        return _explicit(str(choice), categories, class_count)
    if model_names:
        return _by_name(categories, model_names)
    return _guess(categories, class_count, layout)


def _explicit(choice: str, categories: dict[int, str], class_count: int | None) -> ClassMap:
    if choice == "identity":
        count = class_count or (max(categories) + 1)
        return ClassMap({i: i for i in range(count)}, "identity (--class-map)")
    if choice == "coco80":
        return ClassMap(dict(enumerate(coco80_ids())), "coco80: class i = the i-th of COCO's 80 categories")
    path = Path(choice)
    if not path.is_file():
        raise UsageError(f"--class-map {choice} is neither identity, coco80 nor a file", CLASS_MAP_HINT)
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
        else:
            import yaml

            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        mapping = {int(k): int(v) for k, v in dict(data).items()}
    except Exception as exc:
        raise Pt2trtError(f"cannot read --class-map {path}: {str(exc).splitlines()[0]}", CLASS_MAP_HINT) from exc
    unknown = sorted(set(mapping.values()) - set(categories))
    if unknown:
        raise Pt2trtError(
            f"--class-map {path} maps to category id(s) {unknown[:5]} that the data does not have: unknown class",
            "Map each class to one of the data's category ids",
        )
    return ClassMap(mapping, f"from {path.name}")


def _by_name(categories: dict[int, str], model_names: dict[int, str]) -> ClassMap:
    by_name = {normalise(n): c for c, n in sorted(categories.items())}
    mapping = {i: by_name[normalise(n)] for i, n in model_names.items() if normalise(n) in by_name}
    if not mapping:
        raise Pt2trtError(
            f"none of the model's {len(model_names)} class names ({', '.join(list(model_names.values())[:3])}, ...) "
            "is a category name of the data",
            CLASS_MAP_HINT,
        )
    result = ClassMap(
        mapping, f"by name: {len(mapping)} of the model's {len(model_names)} classes are categories of the data"
    )
    missing = [categories[c] for c in sorted(set(categories) - set(mapping.values()))]
    if missing:
        result.notes.append(
            f"{len(missing)} categor{'y' if len(missing) == 1 else 'ies'} of the data match no class name of the model "
            f"({', '.join(missing[:5])}): they score AP 0; check the names or pass --class-map"
        )
    return result


def _guess(categories: dict[int, str], class_count: int | None, layout: str | None) -> ClassMap:
    ids = sorted(categories)
    coco = coco80_ids()
    if ids == list(range(len(ids))):
        rule = f"identity: the data's category ids are 0-{len(ids) - 1}"
        mapping = {i: i for i in range(max(len(ids), class_count or 0))}
    elif class_count == 80 and set(ids) <= set(coco):
        rule = "coco80: the model has 80 classes and the data COCO's category ids (YOLO's order)"
        mapping = dict(enumerate(coco))
    elif class_count == 91 or (class_count is None and layout == "torchvision" and max(ids) <= 90):
        rule = "identity: a torchvision detector's classes are COCO's category ids"
        mapping = {i: i for i in range(91)}
    elif class_count == len(ids):
        rule = f"class i = the data's i-th category by id ({len(ids)} classes, {len(ids)} categories)"
        mapping = dict(enumerate(ids))
    else:
        have = (
            f"the model's {class_count} classes"
            if class_count
            else "the model's classes (its outputs do not count them)"
        )
        raise Pt2trtError(
            f"cannot tell which of the data's {len(ids)} category ids ({ids[0]} to {ids[-1]}) each of {have} is",
            CLASS_MAP_HINT + ", or --labels with the model's class names",
        )
    return ClassMap(mapping, rule, guessed=True, notes=[f"class map guessed: {rule}; --class-map sets it"])
