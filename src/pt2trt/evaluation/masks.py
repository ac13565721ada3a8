"""Segmentation data as index PNGs: one mask per picture, a class index per pixel (mode ``P`` or ``L``, as VOC's
``SegmentationClass``), 255 not scored (VOC's object borders).

Layouts: ``DATA/images/`` + ``DATA/masks/`` (or ``annotations/``, ``labels/``), the mask of ``images/a/b.jpg``
being ``masks/a/b.png``; a VOC folder (``JPEGImages/``, ``SegmentationClass/``, and
``ImageSets/Segmentation/<split>.txt`` when present, split ``val`` by default); or ``DATA`` = the masks folder with
``--images DIR``.
"""

from __future__ import annotations

from pathlib import Path

from pt2trt.errors import Pt2trtError
from pt2trt.evaluation.datasets import SegmentationData, sample_of
from pt2trt.evaluation.pictures import image_files, picture_size

MASK_FOLDERS = ("masks", "annotations", "labels", "SegmentationClass")


def load_masks(root: Path, *, images: Path | None = None, split: str | None = None) -> SegmentationData:
    pictures, masks_dir, notes = _layout(root, images, split)
    samples, masks = [], []
    for picture, base in pictures:
        mask = masks_dir / Path(str(picture.relative_to(base))).with_suffix(".png")
        if not mask.is_file():
            raise Pt2trtError(
                f"no mask for {picture.name} (looked for {mask}): its label is missing",
                "Add the mask, or remove the picture from the data",
            )
        size = picture_size(picture)
        mask_size = _mask_size(mask)
        if mask_size != size:
            raise Pt2trtError(
                f"mask {mask} is {mask_size[0]}x{mask_size[1]} but its picture {picture.name} is {size[0]}x{size[1]}",
                "Masks must have their picture's size (a class index per pixel)",
            )
        samples.append(sample_of(picture, base))
        masks.append(mask)
    return SegmentationData(
        root=root, samples=samples, class_names={}, format="index-PNG masks", notes=notes, masks=masks
    )


def _mask_size(path: Path) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return img.size
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise Pt2trtError(f"cannot read mask {path}: {exc}", "Check that the file is a readable PNG") from exc


def _layout(root: Path, images: Path | None, split: str | None) -> tuple[list[tuple[Path, Path]], Path, list[str]]:
    """(picture, its base folder) pairs to score, the masks folder, and notes."""
    if images is not None:
        return [(p, images) for p in _pictures(images)], root, []
    voc_images, voc_masks = root / "JPEGImages", root / "SegmentationClass"
    if voc_images.is_dir() and voc_masks.is_dir():
        listing = root / "ImageSets" / "Segmentation" / f"{split or 'val'}.txt"
        if listing.is_file():
            stems = [s.strip() for s in listing.read_text(encoding="utf-8").split() if s.strip()]
            pairs = [(_voc_picture(voc_images, stem, listing), voc_images) for stem in stems]
            return pairs, voc_masks, [f"VOC split {listing.relative_to(root)}: {len(stems)} pictures"]
        if split is not None:
            raise Pt2trtError(f"no split list {listing}", "Leave out --split to score every mask in SegmentationClass")
        stems = [m.stem for m in sorted(voc_masks.glob("*.png"))]
        return [(_voc_picture(voc_images, s, voc_masks), voc_images) for s in stems], voc_masks, []
    pictures_dir = root / "images"
    masks_dir = next((root / name for name in MASK_FOLDERS if (root / name).is_dir()), None)
    if not pictures_dir.is_dir() or masks_dir is None:
        raise Pt2trtError(
            f"{root} has neither images/ and masks/ folders nor a VOC layout (JPEGImages/, SegmentationClass/)",
            "Put the pictures in DATA/images/ and their index PNGs in DATA/masks/, or pass --images DIR",
        )
    return [(p, pictures_dir) for p in _pictures(pictures_dir)], masks_dir, []


def _pictures(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise Pt2trtError(f"image folder {folder} not found", "Pass --images DIR, the folder of the pictures")
    files = image_files(folder)
    if not files:
        raise Pt2trtError(f"{folder} holds no pictures", "Point --images at the folder of the pictures")
    return files


def _voc_picture(folder: Path, stem: str, listed_in: Path) -> Path:
    for suffix in (".jpg", ".jpeg", ".png"):
        if (folder / f"{stem}{suffix}").is_file():
            return folder / f"{stem}{suffix}"
    raise Pt2trtError(f"picture {stem} (listed in {listed_in}) not found in {folder}", "Add it, or fix the list")
