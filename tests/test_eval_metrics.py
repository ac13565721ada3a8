"""eval's metrics held against the libraries' own computations on the same predictions, and hand-computable cases.

COCO mAP: pycocotools' documented path (``loadRes`` + ``COCOeval``) and faster-coco-eval; the bootstrap's weighted
accumulation against pycocotools on a dataset where the drawn images are really duplicated. mIoU and pixel accuracy:
torchmetrics. McNemar: scipy's exact binomial test.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from pt2trt.evaluation.coco_map import coco_evaluate
from pt2trt.evaluation.segment import iou_from_confusion
from pt2trt.evaluation.significance import Bootstrap, mcnemar_exact, paired_difference


def two_image_case() -> tuple[dict, list[dict]]:
    """Two images with one box each; one exact detection (score 0.9), one detection in the wrong place (0.8).

    Sorted by score: TP (precision 1, recall 0.5), FP (precision 0.5, recall 0.5). COCO reads precision at 101
    recall points 0, 0.01, ..., 1: 1 at the 51 points up to 0.5, 0 beyond, so AP = 51/101 at every IoU threshold."""
    images = [{"id": i, "file_name": f"{i}.png", "width": 100, "height": 100} for i in (1, 2)]
    annotations = [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 20], "area": 600, "iscrowd": 0},
        {"id": 2, "image_id": 2, "category_id": 1, "bbox": [50, 50, 20, 20], "area": 400, "iscrowd": 0},
    ]
    gt = {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "thing"}]}
    detections = [
        {"image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 20], "score": 0.9},
        {"image_id": 2, "category_id": 1, "bbox": [0, 0, 20, 20], "score": 0.8},
    ]
    return gt, detections


def pycocotools_stats(gt: dict, detections: list[dict], tmp: Path) -> np.ndarray:
    """pycocotools the documented way: the ground truth from a JSON file, the detections through loadRes."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    path = tmp / "gt.json"
    path.write_text(json.dumps(gt))
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(path))
        evaluator = COCOeval(coco, coco.loadRes(detections), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return np.asarray(evaluator.stats)


def faster_coco_eval_stats(gt: dict, detections: list[dict]) -> np.ndarray:
    from faster_coco_eval import COCO, COCOeval_faster

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(gt)
        evaluator = COCOeval_faster(coco, coco.loadRes(detections), "bbox", print_function=lambda *a: None)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return np.asarray(evaluator.stats)


def random_case(seed: int = 0, images: int = 30, categories: int = 3) -> tuple[dict, list[dict]]:
    """Random ground truth and noisy detections: some found, some shifted, some false, some missed."""
    rng = np.random.default_rng(seed)
    imgs, anns, dets = [], [], []
    for i in range(1, images + 1):
        imgs.append({"id": i, "file_name": f"{i}.png", "width": 200, "height": 150})
        for _ in range(int(rng.integers(0, 5))):
            w, h = rng.uniform(10, 80), rng.uniform(10, 60)
            x, y = rng.uniform(0, 200 - w), rng.uniform(0, 150 - h)
            c = int(rng.integers(1, categories + 1))
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": c, "bbox": [x, y, w, h], "area": w * h,
                         "iscrowd": 0})  # fmt: skip
            if rng.random() < 0.8:
                jitter = rng.normal(0, 4, 4)
                box = [x + jitter[0], y + jitter[1], max(1.0, w + jitter[2]), max(1.0, h + jitter[3])]
                dets.append({"image_id": i, "category_id": c, "bbox": box, "score": float(rng.uniform(0.2, 1))})
        for _ in range(int(rng.integers(0, 3))):
            box = [*rng.uniform(0, 100, 2), *rng.uniform(5, 50, 2)]
            c = int(rng.integers(1, categories + 1))
            dets.append({"image_id": i, "category_id": c, "bbox": box, "score": float(rng.uniform(0, 0.9))})
    categories_list = [{"id": c, "name": f"c{c}"} for c in range(1, categories + 1)]
    return {"images": imgs, "annotations": anns, "categories": categories_list}, dets


def test_hand_computed_map_two_images(tmp_path: Path) -> None:
    gt, detections = two_image_case()
    evaluation = coco_evaluate(gt, detections)
    assert evaluation.stats["map"] == pytest.approx(51 / 101, abs=1e-12)
    assert evaluation.stats["map50"] == pytest.approx(51 / 101, abs=1e-12)
    assert evaluation.per_category[1] == pytest.approx(51 / 101, abs=1e-12)
    assert pycocotools_stats(gt, detections, tmp_path)[0] == pytest.approx(51 / 101, abs=1e-12)
    assert faster_coco_eval_stats(gt, detections)[0] == pytest.approx(51 / 101, abs=1e-12)
    # the bootstrap path, every image once: the same figure
    assert evaluation.ap() == pytest.approx(51 / 101, abs=1e-12)
    # only the first image drawn (twice): every detection right, AP 1; only the second: AP 0
    assert evaluation.ap(np.array([2.0, 0.0])) == pytest.approx(1.0)
    assert evaluation.ap(np.array([0.0, 1.0])) == pytest.approx(0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_map_equals_pycocotools_and_faster_coco_eval(tmp_path: Path, seed: int) -> None:
    gt, detections = random_case(seed)
    evaluation = coco_evaluate(gt, detections)
    reference = pycocotools_stats(gt, detections, tmp_path)
    mine = [evaluation.stats[k] for k in ("map", "map50", "map75")]
    np.testing.assert_allclose(mine, reference[:3], atol=1e-12)
    np.testing.assert_allclose(mine, faster_coco_eval_stats(gt, detections)[:3], atol=1e-6)
    assert 0.05 < mine[0] < 0.95 and mine[1] > mine[0]  # a real spread of hits and misses, not a trivial 0 or 1


def duplicated(gt: dict, detections: list[dict], counts: np.ndarray) -> tuple[dict, list[dict]]:
    """The dataset with image i present counts[i] times (new ids), annotations and detections copied along."""
    images, anns, dets = [], [], []
    ids = sorted(img["id"] for img in gt["images"])
    for position, image_id in enumerate(ids):
        for _ in range(int(counts[position])):
            new = len(images) + 1
            images.append({**next(i for i in gt["images"] if i["id"] == image_id), "id": new})
            for a in gt["annotations"]:
                if a["image_id"] == image_id:
                    anns.append({**a, "id": len(anns) + 1, "image_id": new})
            dets += [{**d, "image_id": new} for d in detections if d["image_id"] == image_id]
    return {**gt, "images": images, "annotations": anns}, dets


def test_bootstrap_accumulation_equals_pycocotools_on_duplicated_images(tmp_path: Path) -> None:
    gt, detections = random_case(3, images=20)
    evaluation = coco_evaluate(gt, detections)
    draws = Bootstrap.draw(20, 4, seed=5)
    for counts in draws.counts:
        big_gt, big_dets = duplicated(gt, detections, counts)
        stats = pycocotools_stats(big_gt, big_dets, tmp_path)
        assert evaluation.ap(counts) == pytest.approx(stats[0], abs=1e-12)
        assert evaluation.ap(counts, iou=0.5) == pytest.approx(stats[1], abs=1e-12)


def test_map_without_detections_is_zero_and_without_ground_truth_undefined() -> None:
    gt, detections = two_image_case()
    assert coco_evaluate(gt, []).stats["map"] == 0.0
    empty = {**gt, "annotations": []}
    assert np.isnan(coco_evaluate(empty, detections).stats["map"])


def test_iou_hand_computed_and_against_torchmetrics() -> None:
    # 2x3 labels and predictions, one pixel not scored (255):
    #   labels [[0, 0, 1], [1, 2, 255]]   predictions [[0, 1, 1], [1, 2, 2]]
    # class 0: hit 1, union 2 -> 0.5; class 1: hit 2, union 3 -> 2/3; class 2: hit 1, union 1 -> 1 (255 not scored)
    labels = np.array([[0, 0, 1], [1, 2, 255]])
    predicted = np.array([[0, 1, 1], [1, 2, 2]])
    valid = labels != 255
    confusion = np.bincount(labels[valid] * 3 + predicted[valid], minlength=9).reshape(3, 3)
    iou, miou, accuracy = iou_from_confusion(confusion)
    np.testing.assert_allclose(iou, [0.5, 2 / 3, 1.0])
    assert miou == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    assert accuracy == pytest.approx(4 / 5)

    torch = pytest.importorskip("torch")
    from torchmetrics.classification import MulticlassAccuracy, MulticlassJaccardIndex

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, (4, 40, 50))
    labels[rng.random(labels.shape) < 0.05] = 255
    predicted = np.where(
        rng.random(labels.shape) < 0.7, np.where(labels == 255, 0, labels), rng.integers(0, 5, labels.shape)
    )
    valid = labels != 255
    confusion = np.bincount(labels[valid] * 5 + predicted[valid], minlength=25).reshape(5, 5)
    iou, miou, accuracy = iou_from_confusion(confusion)
    t_labels, t_pred = torch.from_numpy(labels), torch.from_numpy(predicted)
    per_class = MulticlassJaccardIndex(5, average="none", ignore_index=255)(t_pred, t_labels).numpy()
    np.testing.assert_allclose(iou, per_class, atol=1e-6)
    assert miou == pytest.approx(
        float(MulticlassJaccardIndex(5, average="macro", ignore_index=255)(t_pred, t_labels)), abs=1e-6
    )
    assert accuracy == pytest.approx(
        float(MulticlassAccuracy(5, average="micro", ignore_index=255)(t_pred, t_labels)), abs=1e-6
    )


@pytest.mark.parametrize(("b", "c"), [(0, 0), (0, 5), (3, 9), (12, 3), (40, 45), (200, 260)])
def test_mcnemar_exact_equals_scipy_binomial_test(b: int, c: int) -> None:
    from scipy.stats import binomtest

    expected = 1.0 if b + c == 0 else binomtest(min(b, c), b + c, 0.5).pvalue
    assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-9)


def test_mcnemar_hand_computed() -> None:
    # 0 vs 5 flips: 2 * (1/2)^5 = 1/16
    assert mcnemar_exact(0, 5) == pytest.approx(1 / 16)
    assert mcnemar_exact(5, 0) == pytest.approx(1 / 16)
    assert mcnemar_exact(4, 4) == 1.0


def test_paired_bootstrap_reads_a_real_difference_and_no_difference() -> None:
    rng = np.random.default_rng(0)
    a = rng.random(400) < 0.8
    b = a.copy()
    b[np.flatnonzero(a)[:40]] = False  # 40 images lost: 10 points less
    draws = Bootstrap.draw(400, 500, seed=1)

    def rate(x: np.ndarray):
        return lambda counts: float((x * counts).sum() / counts.sum())

    interval = paired_difference(rate(a), rate(b), draws)
    assert interval.high < 0 < -interval.low and interval.p_value <= 2 / 500
    assert interval.low < -0.1 + 0.02 and interval.high > -0.1 - 0.02  # the true difference inside
    same = paired_difference(rate(a), rate(a), draws)
    assert same.p_value == 1.0 and same.low == same.high == 0.0


def test_picture_size_reads_exif_orientation_from_the_header(tmp_path: Path) -> None:
    """A picture rotated by its EXIF orientation is measured upright, as predict decodes it; PNG and JPEG alike."""
    from PIL import Image

    from pt2trt.evaluation.pictures import picture_size
    from pt2trt.imaging.sources import load_image

    for suffix in (".jpg", ".png"):
        path = tmp_path / f"rotated{suffix}"
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90 degrees to show
        Image.new("RGB", (40, 30), (10, 20, 30)).save(path, exif=exif.tobytes())
        assert picture_size(path) == (30, 40) == load_image(path).size


def test_class_map_rules() -> None:
    from pt2trt.errors import Pt2trtError
    from pt2trt.evaluation.class_map import coco80_ids, recorded_names, resolve_class_map
    from pt2trt.tasks import Labels

    coco91 = Labels.builtin("coco91-torchvision").names
    coco = {i: n for i, n in coco91.items() if n not in ("N/A", "__background__")}  # COCO's 80 categories, ids 1-90
    ids = coco80_ids()
    assert len(ids) == 80 and ids[:3] == [1, 2, 3] and ids[-1] == 90 and ids[11] == 13  # stop sign skips 12
    yolo = resolve_class_map(None, coco, {}, 80, "yolov8")
    assert yolo.guessed and yolo.rule.startswith("coco80") and yolo.mapping[0] == 1 and yolo.mapping[79] == 90
    torchvision = resolve_class_map(None, coco, {}, None, "torchvision")
    assert torchvision.guessed and torchvision.mapping[1] == 1 and torchvision.mapping[90] == 90
    by_name = resolve_class_map(None, coco, dict(Labels.builtin("coco80").names), None, "nms")
    assert not by_name.guessed and by_name.mapping == dict(enumerate(ids))
    zero_based = resolve_class_map(None, {0: "a", 1: "b"}, {}, None, "nms")
    assert zero_based.mapping == {0: 0, 1: 1} and "0-1" in zero_based.rule
    with pytest.raises(Pt2trtError, match="--class-map"):
        resolve_class_map(None, {3: "a", 7: "b"}, {}, 5, "yolov8")
    names = recorded_names({"names": "{0: 'person', 1: 'bicycle'}"})  # as ultralytics writes it
    assert names == {0: "person", 1: "bicycle"}
    assert recorded_names({"names": "not a mapping {"}) == {} and recorded_names({}) == {}
    assert recorded_names({"names": "{0: '0', 1: '1'}"}) == {}  # ultralytics' model built from yolov8n.yaml
