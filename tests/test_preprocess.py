"""Preprocessing as data: the geometry of each resize mode, the pixel arithmetic, presets and files, mapping back,
image loading (EXIF, JPEG draft) and the prefetching thread pool."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.imaging.preprocess import IMAGENET_MEAN, IMAGENET_STD, PRESETS, Preprocess, Transform, load_preprocess
from pt2trt.imaging.sources import collect_sources, iter_frames, load_image
from pt2trt.prediction.prefetch import ordered_map


def solid(width: int, height: int, rgb: tuple[int, int, int]) -> Image.Image:
    return Image.new("RGB", (width, height), rgb)


def test_letterbox_geometry_of_a_wide_odd_image() -> None:
    pre = Preprocess(resize="letterbox", size=(640, 640), pad_value=114)
    sample, t = pre.apply(solid(203, 101, (255, 255, 255)))
    # r = 640/203: 203x101 -> 640x318 (101 * 640/203 = 318.4), centred: 161 rows of padding above
    assert t.scale == (640 / 203, 318 / 101) and t.offset == (0.0, 161.0)
    assert sample.shape == (3, 640, 640) and sample.dtype == np.float32
    column = sample[0, :, 320]
    assert np.allclose(column[:161], 114 / 255) and np.allclose(column[161:479], 1.0)
    assert np.allclose(column[479:], 114 / 255)
    # the whole letterboxed picture maps back onto the whole original
    assert t.boxes_to_original(np.array([[0, 161, 640, 479]])).tolist() == [[0, 0, 203, 101]]


def test_letterbox_geometry_of_a_tall_image_maps_points_back() -> None:
    pre = Preprocess(resize="letterbox", size=(320, 480))  # input 480 wide, 320 high
    _, t = pre.apply(solid(100, 400, (0, 0, 0)))
    # r = min(480/100, 320/400) = 0.8: 100x400 -> 80x320, 200 columns of padding on the left
    assert t.scale == (0.8, 0.8) and t.offset == (200.0, 0.0)
    box = t.boxes_to_original(np.array([[200 + 8, 16, 200 + 40, 160]]))
    assert box.tolist() == [[10, 20, 50, 200]]
    # boxes reaching into the padding are clipped to the image
    assert t.boxes_to_original(np.array([[0, -5, 479, 330]])).tolist() == [[0, 0, 100, 400]]


def test_stretch_and_crop_geometry() -> None:
    _, t = Preprocess(resize="stretch", size=(100, 200)).apply(solid(400, 50, (0, 0, 0)))
    assert t.scale == (0.5, 2.0) and t.offset == (0.0, 0.0)
    crop = Preprocess(resize="crop", size=(224, 224), crop_fraction=0.875)
    sample, t = crop.apply(solid(400, 300, (0, 0, 0)))
    # shorter side -> 256: 400x300 -> 341x256, centre 224x224 crop starts at (58, 16)
    assert sample.shape == (3, 224, 224)
    assert t.scale == (341 / 400, 256 / 300) and t.offset == (-58.0, -16.0)


def test_normalisation_channel_order_layout_and_dtype() -> None:
    image = solid(4, 2, (255, 0, 128))
    sample, _ = PRESETS["imagenet-classification"].with_size(2, 2).apply(image)
    expected = (np.array([255, 0, 128]) / 255 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    assert np.allclose(sample[:, 0, 0], expected, atol=1e-6)
    bgr = Preprocess(size=(2, 4), channels="BGR", layout="NHWC", scale=1.0).apply(image)[0]
    assert bgr.shape == (2, 4, 3) and bgr[0, 0].tolist() == [128, 0, 255]
    raw = Preprocess(size=(2, 4), dtype="uint8").apply(image)[0]
    assert raw.dtype == np.uint8 and raw[:, 1, 1].tolist() == [255, 0, 128]
    half = Preprocess(size=(2, 4), dtype="float16").apply(image)[0]
    assert half.dtype == np.float16 and float(half[0, 0, 0]) == 1.0


def test_mask_to_original_nearest_on_odd_sizes() -> None:
    mask = np.arange(16).reshape(4, 4)
    t = Transform((7, 5), (4, 4), scale=(4 / 7, 4 / 5))
    # pixel centres: columns (x + 0.5) * 4/7 -> 0,0,1,2,2,3,3; rows (y + 0.5) * 4/5 -> 0,1,2,2,3
    expected = mask[np.array([0, 1, 2, 2, 3])[:, None], np.array([0, 0, 1, 2, 2, 3, 3])[None, :]]
    assert np.array_equal(t.mask_to_original(mask), expected)
    # a crop: original pixels outside the input get the fill value
    cropped = Transform((6, 2), (4, 2), scale=(1.0, 1.0), offset=(-1.0, 0.0))
    out = cropped.mask_to_original(np.full((2, 4), 7), fill=-1)
    assert out.tolist() == [[-1, 7, 7, 7, 7, -1]] * 2
    # batched masks keep their leading axes
    assert t.mask_to_original(np.stack([mask, mask])).shape == (2, 5, 7)


def test_presets_files_and_metadata_round_trip(tmp_path: Path) -> None:
    for name, preset in PRESETS.items():
        assert load_preprocess(name) is preset
        assert Preprocess.from_json(preset.to_json()) == preset
    path = tmp_path / "pre.yaml"
    path.write_text("preprocess:\n  preset: yolo-letterbox-640\n  size: 480x640\n  scale: 1/255\n  channels: bgr\n")
    loaded = load_preprocess(path)
    assert loaded.resize == "letterbox" and loaded.size == (480, 640) and loaded.channels == "BGR"
    assert loaded.scale == pytest.approx(1 / 255) and loaded.pad_value == 114


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("resize: squash\n", "unknown preprocessing resize 'squash'"),
        ("sizes: 3\n", "unknown setting(s) sizes"),
        ("mean: [1, 2]\n", "mean and std need 3 values"),
        ("preset: coco\n", "unknown preset 'coco'"),
        ("size: big\n", "malformed size 'big'"),
        ("- 1\n- 2\n", "must be a mapping"),
    ],
)
def test_bad_preprocessing_files_are_user_errors(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(Pt2trtError) as info:
        load_preprocess(path)
    assert fragment in str(info.value)


def test_unknown_preset_names_the_presets() -> None:
    with pytest.raises(UsageError, match="imagenet-classification"):
        load_preprocess("imagenet")


def test_exif_orientation_and_jpeg_draft_keep_original_coordinates(tmp_path: Path) -> None:
    # stored 60 wide x 40 high with orientation 6 (rotate 90 clockwise to view): the picture is 40x60
    stored = Image.new("RGB", (60, 40), (0, 0, 0))
    stored.paste((255, 255, 255), (0, 0, 10, 40))  # left band, which becomes the top band when upright
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    stored.save(path, exif=exif, quality=95)
    upright = load_image(path)
    assert upright.size == (40, 60) and upright.info["original_size"] == (40, 60)
    assert np.asarray(upright)[2, 20].mean() > 200 and np.asarray(upright)[50, 20].mean() < 50

    big = tmp_path / "big.jpg"
    Image.new("RGB", (1600, 1200), (10, 200, 30)).save(big)
    drafted = load_image(big, draft=lambda size: (200, 150))
    assert drafted.size == (200, 150), "JPEG draft decodes at 1/8"
    assert drafted.info["original_size"] == (1600, 1200)
    _, t = Preprocess(resize="stretch", size=(100, 100)).apply(drafted)
    assert t.original_size == (1600, 1200) and t.scale == (100 / 1600, 100 / 1200)


def test_collect_sources_files_folders_globs_and_errors(tmp_path: Path) -> None:
    for name in ("b.jpg", "a.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    assert [p.name for p in collect_sources([tmp_path])] == ["a.png", "b.jpg"]
    assert [p.name for p in collect_sources([str(tmp_path / "*.jpg"), tmp_path / "a.png"])] == ["b.jpg", "a.png"]
    for sources, fragment in [
        ([tmp_path / "missing.jpg"], "image not found"),
        ([tmp_path / "notes.txt"], "not an image or video"),
        ([str(tmp_path / "*.gif")], "no images match"),
        ([tmp_path / "sub"], "holds no images"),
        ([], "no images given"),
    ]:
        with pytest.raises(Pt2trtError, match=fragment):
            collect_sources(sources)
    with pytest.raises(Pt2trtError, match="cannot read image"):
        next(iter_frames([tmp_path / "b.jpg"])).load()


def test_a_folder_of_class_folders_names_the_glob_that_takes_them(tmp_path: Path) -> None:
    """An ImageFolder given where pictures are expected (quantize --calib, predict): the error counts the pictures
    in its subfolders and names the recursive glob, which then takes every one of them."""
    for label in ("cat", "dog"):
        (tmp_path / "val" / label).mkdir(parents=True)
        for i in range(3):
            (tmp_path / "val" / label / f"{i}.png").write_bytes(b"x")
    with pytest.raises(Pt2trtError, match=r"holds no images itself; its subfolders hold 6") as caught:
        collect_sources([tmp_path / "val"])
    glob_text = caught.value.hint.split("'")[1] if caught.value.hint else ""
    assert len(collect_sources([glob_text])) == 6


def test_ordered_map_keeps_order_overlaps_and_reraises() -> None:
    names: set[str] = set()

    def slow_square(x: int) -> int:
        names.add(threading.current_thread().name)
        return x * x

    assert list(ordered_map(slow_square, range(50), workers=3, ahead=4)) == [x * x for x in range(50)]
    assert any(n.startswith("pt2trt-prefetch") for n in names)

    def boom(x: int) -> int:
        if x == 3:
            raise Pt2trtError("bad item 3")
        return x

    seen = []
    with pytest.raises(Pt2trtError, match="bad item 3"):
        for value in ordered_map(boom, range(10)):
            seen.append(value)
    assert seen == [0, 1, 2]

    def items():
        yield 1
        raise Pt2trtError("source broke")

    with pytest.raises(Pt2trtError, match="source broke"):
        list(ordered_map(lambda x: x, items()))
    # closing early stops the feeder
    gen = ordered_map(lambda x: x, iter(range(10_000)), ahead=2)
    assert next(gen) == 0
    gen.close()
    assert not any(t.name == "pt2trt-feeder" and t.is_alive() for t in threading.enumerate())
