"""Classification data as an ImageFolder: ``DATA/<class>/<picture>``, the class index of a folder being its place
in the sorted folder names (torchvision's ``ImageFolder``), or its name's place in a labels file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pt2trt.errors import Pt2trtError
from pt2trt.evaluation.datasets import ClassificationData, sample_of
from pt2trt.evaluation.pictures import image_files, picture_size

if TYPE_CHECKING:
    from pt2trt.tasks import Labels


def normalise(name: str) -> str:
    """A class name compared loosely: case, spaces, underscores and dashes do not count."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def load_imagefolder(root: Path, labels: Labels | None = None) -> ClassificationData:
    """Every picture under each class folder of ``root`` (recursively), with its class index.

    Without ``labels`` the index is the folder's place in the sorted names; with ``labels`` (the model's class names,
    in its order) each folder must be one of the names.
    """
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    loose = image_files(root, recursive=False)
    if not folders:
        raise Pt2trtError(
            f"{root} holds no class folders",
            "Put each class's pictures in a folder named after it: DATA/cat/1.jpg, DATA/dog/2.jpg, ...",
        )
    if loose:
        raise Pt2trtError(
            f"{len(loose)} picture(s) in {root} are outside any class folder (e.g. {loose[0].name}): their label "
            "is missing",
            "Move each into the folder of its class",
        )
    notes: list[str] = []
    index_of = _indices(folders, labels, notes)
    samples, targets = [], []
    for folder in folders:
        files = image_files(folder)
        if not files:
            raise Pt2trtError(f"class folder {folder} holds no pictures", "Remove the empty folder, or fill it")
        for path in files:
            picture_size(path)  # empty or unreadable pictures stop here, before any model runs
            samples.append(sample_of(path, root))
            targets.append(index_of[folder.name])
    named = labels is not None and bool(labels.names)
    names = dict(labels.names) if labels is not None and named else {index_of[f.name]: f.name for f in folders}
    return ClassificationData(
        root=root, samples=samples, class_names=names, format="ImageFolder", notes=notes, targets=targets
    )


def _indices(folders: list[Path], labels: Labels | None, notes: list[str]) -> dict[str, int]:
    if labels is not None and labels.names:
        by_name: dict[str, int] = {}
        for index, name in sorted(labels.names.items()):
            by_name.setdefault(normalise(name), index)
        out = {}
        for folder in folders:
            key = normalise(folder.name)
            if key not in by_name:
                source = f" ({labels.source})" if labels.source else ""
                raise Pt2trtError(
                    f"class folder '{folder.name}' is not one of the {len(labels)} labels{source}: unknown class",
                    "Rename the folder to the model's name for that class, pass the labels file that names it, or "
                    "leave out --labels to read the sorted folders as class indices (ImageNet's wnid folders)",
                )
            out[folder.name] = by_name[key]
        notes.append(f"class folders matched by name to the {len(labels)} labels ({labels.source or 'given'})")
        return out
    names = [f.name for f in folders]
    if all(n.isdigit() for n in names) and sorted(names, key=int) != names:
        notes.append(
            f"the class folders are numbers, read in sorted text order as torchvision's ImageFolder does "
            f"('{names[2] if len(names) > 2 else names[-1]}' is class {min(2, len(names) - 1)}); pass --labels with "
            "the names in the model's order if it numbers them as integers"
        )
    return {name: i for i, name in enumerate(names)}
