"""Pictures and masks as the loaders read them: the files of a folder, a picture's size from its header, a mask's
class indices."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pt2trt.errors import Pt2trtError

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

INDEX_MODES = ("P", "L", "I;16", "I")


def image_files(folder: Path, *, recursive: bool = True) -> list[Path]:
    """The picture files under ``folder`` (sorted; hidden files and folders left out)."""
    from pt2trt.imaging.sources import IMAGE_SUFFIXES

    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        p
        for p in found
        if p.suffix.lower() in IMAGE_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def picture_size(path: Path) -> tuple[int, int]:
    """(width, height) of a picture as pt2trt decodes it (EXIF orientation applied), from its header only.

    An empty or unreadable file is a user error naming it."""
    from PIL import Image, UnidentifiedImageError

    try:
        if path.stat().st_size == 0:
            raise Pt2trtError(f"image {path} is empty (0 bytes)", "Remove it from the data, or replace it")
        with Image.open(path) as img:
            width, height = img.size
            orientation = _header_orientation(img)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise Pt2trtError(f"cannot read image {path}: {exc}", "Check that the file is a readable image") from exc
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _header_orientation(img: Image.Image) -> int:
    """The EXIF orientation, without decoding the pixels: Pillow's PNG reader decodes the whole picture to look
    for an EXIF chunk after the pixels, so a PNG is asked only for the chunk met in its header."""
    from PIL import Image

    try:
        if img.format == "PNG":
            raw = img.info.get("exif")
            if not raw:
                return 1
            exif = Image.Exif()
            exif.load(raw)
            return int(exif.get(0x0112, 1))
        return int(img.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block: predict ignores it too
        return 1


def read_mask(path: Path) -> np.ndarray:
    """The class index of every pixel of an index PNG; a colour picture is refused (its colours are not indices)."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            if img.mode not in INDEX_MODES:
                raise Pt2trtError(
                    f"mask {path} is a {img.mode} picture, not an index PNG (one class index per pixel)",
                    "Save masks in mode P or L with the class index as the pixel value (VOC's SegmentationClass)",
                )
            mask = np.asarray(img)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise Pt2trtError(f"cannot read mask {path}: {exc}", "Check that the file is a readable PNG") from exc
    if mask.dtype.kind == "u":
        return mask
    if mask.size and mask.min() < 0:
        raise Pt2trtError(f"mask {path} holds negative values", "Class indices start at 0 (255: not scored)")
    return mask.astype(np.int64)
