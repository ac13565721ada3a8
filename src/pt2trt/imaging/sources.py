"""Images to predict on: files, folders, globs and (with OpenCV) video frames.

:func:`collect_sources` expands what the user typed into files, checking everything before any work starts;
:func:`iter_frames` yields :class:`Frame` objects whose ``load()`` decodes the picture, so that decoding can run in
worker threads. Videos are read frame by frame (never whole into memory).
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pt2trt.errors import Pt2trtError

if TYPE_CHECKING:
    from PIL import Image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm", ".pgm")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")


@dataclass(frozen=True)
class Frame:
    """One picture to predict on: a name for the JSON record, where it came from and how to decode it."""

    name: str
    path: Path
    index: int | None  # frame number in a video, None for an image file
    load: Callable[[], Image.Image]


def _empty_folder(path: Path) -> Pt2trtError:
    """A folder without pictures of its own; when its subfolders hold some (an ImageFolder's class folders), the glob
    that takes them all."""
    nested = sum(1 for p in path.rglob("*") if p.is_file() and _is_media(p))
    if nested:
        return Pt2trtError(
            f"folder {path} holds no images itself; its subfolders hold {nested}",
            f"Pass '{path / '**' / '*'}' (quoted) to take the pictures of every subfolder",
        )
    return Pt2trtError(f"folder {path} holds no images", f"Supported: {', '.join(IMAGE_SUFFIXES)}")


def collect_sources(sources: Sequence[str | Path]) -> list[Path]:
    """Image and video files named by ``sources`` (files, folders (not recursive, sorted) and globs), in order."""
    if not sources:
        raise Pt2trtError("no images given", "Pass image files, folders or globs, e.g. 'photos/*.jpg'")
    found: list[Path] = []
    for raw in sources:
        text = str(raw)
        path = Path(text)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and _is_media(p))
            if not files:
                raise _empty_folder(path)
            found.extend(files)
        elif path.is_file():
            if not _is_media(path):
                raise Pt2trtError(
                    f"{path} is not an image or video file",
                    f"Supported: {', '.join(IMAGE_SUFFIXES + VIDEO_SUFFIXES)}",
                )
            found.append(path)
        elif glob.has_magic(text):
            matches = sorted(Path(p) for p in glob.glob(text, recursive=True))
            files = [p for p in matches if p.is_file() and _is_media(p)]
            if not files:
                raise Pt2trtError(
                    f"no images match '{text}'",
                    "Check the pattern (quote it so your shell does not expand it) and the file suffixes",
                )
            found.extend(files)
        else:
            raise Pt2trtError(f"image not found: {path}", "Check the path, or quote a glob like 'photos/*.jpg'")
    videos = [p for p in found if is_video(p)]
    if videos:
        require_opencv(videos[0])
    return found


Draft = Callable[[tuple[int, int]], tuple[int, int]]


def iter_frames(paths: Sequence[Path], *, draft: Draft | None = None, allow_large: bool = False) -> Iterator[Frame]:
    """Frames of ``paths`` in order; image files are decoded lazily by ``Frame.load``.

    ``draft`` maps an image's (width, height) to the size it will be resized to: JPEG decoding then skips detail
    finer than that (DCT scaling by 1/2, 1/4 or 1/8), several times faster for large photos and small inputs.
    """
    for path in paths:
        if is_video(path):
            yield from _video_frames(path)
        else:
            yield Frame(path.name, path, None, _image_loader(path, draft, allow_large))


def load_image(path: str | Path, draft: Draft | None = None, *, allow_large: bool = False) -> Image.Image:
    """Decode one image file to RGB (EXIF orientation applied); unreadable files are user errors.

    The full-resolution (upright) size is kept in ``image.info["original_size"]`` even when ``draft`` decoded a
    smaller picture, so that results map back to the file's own pixels.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with _pixel_limit(None if allow_large else Image.MAX_IMAGE_PIXELS), Image.open(path) as img:
            orientation = _orientation(img)
            size = img.size[::-1] if orientation in (5, 6, 7, 8) else img.size
            if draft is not None and img.format == "JPEG":
                target = draft(size)
                img.draft("RGB", target if orientation not in (5, 6, 7, 8) else target[::-1])
            img.load()
            rgb = img if img.mode == "RGB" else img.convert("RGB")  # no copy for the usual RGB JPEG
    except Image.DecompressionBombError as exc:
        raise Pt2trtError(
            f"image {path} is too large to decode safely ({str(exc).split('(')[0].strip().lower()})",
            "Pass --allow-large-images (allow_large_images=True) if you trust the file",
        ) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise Pt2trtError(f"cannot read image {path}: {exc}", "Check that the file is a readable image") from exc
    if orientation != 1:
        from PIL import ImageOps

        rgb.getexif()[0x0112] = orientation
        rgb = ImageOps.exif_transpose(rgb)
    rgb.info["original_size"] = size
    return rgb


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def quiet_opencv() -> None:
    """Keep OpenCV's and FFmpeg's own log lines ("moov atom not found") off stderr: pt2trt reports the failure itself.
    Set before ``cv2`` is imported; a user's own ``OPENCV_*`` settings win."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")


def require_opencv(video: Path) -> None:
    quiet_opencv()
    try:
        import cv2  # noqa: F401
    except ImportError as exc:
        raise Pt2trtError(
            f"reading video {video} needs OpenCV", 'Install it with: pip install "pt2trt[video]"'
        ) from exc


def _image_loader(path: Path, draft: Draft | None, allow_large: bool) -> Callable[[], Image.Image]:
    return lambda: load_image(path, draft, allow_large=allow_large)


@contextlib.contextmanager
def _pixel_limit(limit: int | None) -> Iterator[None]:
    """PIL's decompression-bomb limit for this decode: ``None`` lifts it. PIL refuses images over twice its limit
    (~179 megapixels by default) and warns below that; the warning never reaches stderr."""
    import warnings

    from PIL import Image

    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _video_frames(path: Path) -> Iterator[Frame]:
    quiet_opencv()
    import cv2
    from PIL import Image

    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise Pt2trtError(
            f"OpenCV cannot open video {path}",
            "Check that the file is a complete video (re-encode it with ffmpeg), or extract frames as images",
        )
    try:
        index = 0
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            image = Image.fromarray(bgr[..., ::-1].copy())
            yield Frame(f"{path.name}#{index}", path, index, _loaded(image))
            index += 1
    finally:
        capture.release()
    if index == 0:
        raise Pt2trtError(
            f"no frames could be read from video {path}",
            "Check that the file is a complete video (re-encode it with ffmpeg), or extract frames as images",
        )


def _is_media(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(0x0112, 1))
    except Exception:  # broken EXIF blocks must not stop a prediction
        return 1


def _loaded(image: Image.Image) -> Callable[[], Image.Image]:
    """A frame's loader for a picture already decoded."""
    return lambda: image
