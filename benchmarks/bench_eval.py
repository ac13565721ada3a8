"""Throughput of ``pt2trt eval`` against ``pt2trt predict`` on the same images, same model, same settings.

eval is predict plus: reading the labels (and checking every picture's header before any model runs), scoring each
answer, and the metric at the end (pycocotools' COCOeval for detection). Both run end to end through the Python API
in this process (``pt2trt.evaluate`` and ``pt2trt.predict``: session creation, decoding in worker threads, batches),
on one model, so no bootstrap is drawn. Each round runs both in a seeded random order; the figure is the median over
rounds of (eval images/s / predict images/s in the same round). Three tasks:

* classify – torchvision resnet18 (random weights, exported in a child process with the ImageNet preprocessing
  recorded) on an ImageFolder of 640x480 JPEG files (4 classes);
* detect – the exact colour-box detector of the tests (``onnx.helper``, end-to-end NMS outputs) on 640x480 scenes
  with a COCO JSON file: the model costs nearly nothing, so what eval adds (pycocotools) shows undiluted;
* segment – the tests' colour segmenter (per-pixel logits) on 640x480 scenes with index-PNG masks, which eval
  decodes beside the pictures.

    .venv/bin/python benchmarks/bench_eval.py [--quick] [--images 96] [--batch 8] [--task classify ...]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from _common import machine_info, print_table, pt2trt_command, summarize, write_result
from bench_predict import write_images

import pt2trt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests import eval_data  # the tests' own scene and model builders

from pt2trt.evaluation.settings import EvalSettings
from pt2trt.settings import PredictSettings, PreprocessSettings, ReadSettings

NAME = "bench_eval"
TARGET_RATIO = 0.9
SIZE = (640, 480)
SEGMENT = PreprocessSettings(size=(480, 640), resize="stretch", mean=(0, 0, 0), std=(1, 1, 1))
DETECT = PreprocessSettings(size=(480, 640), resize="stretch")
Case = tuple[Path, Path, Path | None, PreprocessSettings]  # model, data, pictures folder (when apart), preprocessing


def classify_case(root: Path, count: int) -> Case:
    model = root / "resnet18.onnx"
    cmd = [*pt2trt_command(), "export", "torchvision:resnet18", "--input", "input:1x3x224x224", "--dynamic-batch"]
    cmd += ["--exporter", "legacy", "--preprocess", "imagenet-classification", "-o", str(model)]
    print("exporting:", " ".join(cmd[1:]), flush=True)
    subprocess.run(cmd, check=True)
    data = root / "classify"
    for k in range(4):
        folder = data / f"class{k}"
        folder.mkdir(parents=True)
        write_images(folder, count // 4, seed=k)
    return model, data, None, PreprocessSettings()


def detect_case(root: Path, count: int) -> Case:
    model = root / "detector.onnx"
    onnx.save(eval_data.colour_box_detector(SIZE[1], SIZE[0]), model)
    scenes = eval_data.rectangle_scenes(count, size=SIZE)
    data = eval_data.write_coco(root / "detect", scenes, first_category=0, suffix=".jpg")
    return model, data, data.parent / "images", DETECT


def segment_case(root: Path, count: int) -> Case:
    model = root / "segmenter.onnx"
    onnx.save(eval_data.colour_segmenter(), model)
    data = eval_data.write_masks(root / "segment", eval_data.disc_scenes(count, size=SIZE))
    return model, data, None, SEGMENT


CASES = {"classify": classify_case, "detect": detect_case, "segment": segment_case}


def pictures(task: str, data: Path, images: Path | None) -> list[Path]:
    if task == "classify":
        return sorted(data.rglob("*.jpg"))
    return sorted((images or data / "images").glob("*.*"))


def run_task(task: str, root: Path, count: int, batch: int, rounds: int) -> dict[str, Any]:
    model, data, images, preprocess = CASES[task](root, count)
    paths = pictures(task, data, images)
    read = ReadSettings(batch)
    scoring = EvalSettings(preprocess=preprocess, read=read, images=images)
    # eval's scoring defaults (detect: conf 0.001, NMS 0.7), so that both decode alike
    predicting = PredictSettings(scoring.decoding_for(task), preprocess, read=read)

    def predict() -> int:
        return len(pt2trt.predict(model, paths, predicting))

    def evaluate() -> int:
        return pt2trt.evaluate(model, data, task, scoring).images

    jobs: dict[str, Callable[[], int]] = {"predict": predict, "eval": evaluate}
    for job in jobs.values():  # warm-up: file caches, lazy imports
        job()
    rates: dict[str, list[float]] = {name: [] for name in jobs}
    order = random.Random(0)
    for r in range(rounds):
        names = list(jobs)
        order.shuffle(names)
        for name in names:
            start = time.perf_counter()
            images = jobs[name]()
            rates[name].append(images / (time.perf_counter() - start))
        figures = ", ".join(f"{n} {rates[n][-1]:.1f} img/s" for n in jobs)
        print(f"  {task} round {r + 1}/{rounds}: {figures}", flush=True)
    stats = {name: summarize(values) for name, values in rates.items()}
    ratios = [e / p for e, p in zip(rates["eval"], rates["predict"])]
    stats["ratio"] = {"paired_median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images and rounds (a smoke run, noisier)")
    parser.add_argument("--images", type=int, help="pictures per task [default: 96, quick: 32]")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--task", action="append", choices=list(CASES), help="[default: all three]")
    args = parser.parse_args(argv)
    count = args.images or (32 if args.quick else 96)
    rounds = 3 if args.quick else 7
    tasks = args.task or list(CASES)
    results = {}
    with tempfile.TemporaryDirectory(prefix="pt2trt-bench-eval-") as tmp:
        for task in tasks:
            results[task] = run_task(task, Path(tmp), count, args.batch, rounds)
    rows = [
        [task, f"{s['predict']['median']:.1f}", f"{s['eval']['median']:.1f}", f"{s['ratio']['paired_median']:.3f}x",
         f"{s['ratio']['min']:.3f}-{s['ratio']['max']:.3f}"]
        for task, s in results.items()
    ]  # fmt: skip
    print_table(["task", "predict img/s", "eval img/s", "eval / predict (paired median)", "range"], rows,
                title=f"{count} pictures 640x480, batch {args.batch}, {rounds} rounds")  # fmt: skip
    met = {task: s["ratio"]["paired_median"] >= TARGET_RATIO for task, s in results.items()}
    for task, ok in met.items():
        print(f"{task}: eval / predict {results[task]['ratio']['paired_median']:.3f}x (target >= {TARGET_RATIO}x: "
              f"{'met' if ok else 'MISSED'})")  # fmt: skip
    record = {
        "benchmark": NAME,
        "quick": args.quick,
        "machine": machine_info(),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "config": {"images": count, "image_size": list(SIZE), "batch": args.batch, "rounds": rounds, "tasks": tasks},
        "results": results,
        "target_ratio": TARGET_RATIO,
        "met": met,
    }
    print("written:", write_result(NAME, record))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
