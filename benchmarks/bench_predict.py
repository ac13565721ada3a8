"""Throughput of ``pt2trt predict`` on a folder of JPEG files against model-only inference on pre-made tensors.

Same ONNX file (torchvision resnet18, random weights, dynamic batch, ImageNet preprocessing recorded at export),
same ONNX Runtime settings (``OnnxRuntimeRunner`` defaults), same process, same batch size:

* ``model only`` – the images are decoded and preprocessed before the clock starts; the timed loop only calls
  ``runner.infer`` on the ready batches;
* ``predict`` – ``Predictor.run(folder)``: listing, JPEG decoding, resizing, normalising (in worker threads, ahead
  of the model), inference, softmax + top-5, one result object per image;
* ``predict, no prefetch`` – the same with ``workers=0`` (everything in the calling thread), to show what the
  overlap buys;
* ``predict --fast-decode`` – JPEG draft decoding (DCT scaling), the opt-in approximation; its error per pixel
  against the exact decode (the default) is measured on the same files and recorded beside the speed.

Sessions are created before timing. Each round runs every variant once over the whole folder, in a seeded random
order; the figure is the median over rounds of (predict images/s / model-only images/s in the same round).

    .venv/bin/python benchmarks/bench_predict.py [--quick] [--images 96] [--config 8 --config 8:1] [--onnx r18.onnx]

``--config 8:1`` runs ONNX Runtime on one thread (both variants), which leaves a core of a 2-core machine to the
decoding threads: there the overlap can hide preprocessing, where with ORT on every core it can only fill gaps.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine_info, print_table, pt2trt_command, summarize, write_result
from PIL import Image, ImageDraw

from pt2trt.backends.onnxruntime import OnnxRuntimeRunner
from pt2trt.imaging.preprocess import PRESETS
from pt2trt.imaging.sources import load_image
from pt2trt.prediction.predict import Predictor
from pt2trt.settings import PredictSettings, ReadSettings, RunnerSettings, TaskSettings

NAME = "bench_predict"
MODEL = "torchvision:resnet18"
INPUT = "input:1x3x224x224"
PRESET = "imagenet-classification"
IMAGE_SIZE = (640, 480)
TARGET_RATIO = 0.9

MODEL_ONLY = "model only (pre-made tensors)"
PREDICT = "predict (prefetch, 2 workers)"
PREDICT_SERIAL = "predict, no prefetch (workers=0)"
PREDICT_FAST = "predict --fast-decode (JPEG draft, 2 workers)"


def export_resnet18(path: Path) -> None:
    """Export with the pt2trt CLI in a child process, so torch never loads in this one."""
    cmd = pt2trt_command()
    cmd += ["export", MODEL, "--input", INPUT, "--dynamic-batch", "--exporter", "legacy", "--preprocess", PRESET]
    cmd += ["-o", str(path), "--force"]
    print("exporting:", " ".join(cmd[1:]), flush=True)
    subprocess.run(cmd, check=True)


def write_images(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """``count`` 640x480 JPEG files (quality 90): gradients with filled shapes, like photos in size and entropy."""
    rng = np.random.default_rng(seed)
    width, height = IMAGE_SIZE
    paths = []
    for i in range(count):
        x = np.linspace(0, 1, width)[None, :, None]
        y = np.linspace(0, 1, height)[:, None, None]
        base = rng.uniform(0, 255, 3) * x + rng.uniform(0, 255, 3) * (1 - y)
        noise = rng.normal(0, 12, (height, width, 3))
        image = Image.fromarray((base / 2 + noise).clip(0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x1, x2 = sorted(int(v) for v in rng.integers(0, width, 2))
            y1, y2 = sorted(int(v) for v in rng.integers(0, height, 2))
            fill = tuple(int(v) for v in rng.integers(0, 256, 3))
            (draw.rectangle if rng.random() < 0.5 else draw.ellipse)((x1, y1, x2 + 1, y2 + 1), fill=fill)
        path = folder / f"img{i:04d}.jpg"
        image.save(path, quality=90)
        paths.append(path)
    return paths


def premade_batches(paths: list[Path], batch: int) -> list[np.ndarray]:
    """The folder preprocessed before timing (full decode, the recorded preset), stacked into batches."""
    pre = PRESETS[PRESET]
    samples = [pre.apply(load_image(p))[0] for p in paths]
    return [np.stack(samples[i : i + batch]) for i in range(0, len(samples), batch)]


def _config(text: str) -> tuple[int, int | None]:
    batch, _, threads = text.partition(":")
    return int(batch), int(threads) if threads else None


def _key(batch: int, threads: int | None) -> str:
    return f"batch {batch}, " + (f"ORT {threads} thread(s)" if threads else "ORT default threads")


def measure(variants: dict[str, Callable[[], int]], *, warmup: int, rounds: int, seed: int = 0) -> dict[str, list]:
    """Images per second of each variant, one figure per round; variants run in a seeded random order per round."""
    names = list(variants)
    for _ in range(warmup):
        for name in names:
            variants[name]()
    rates: dict[str, list[float]] = {n: [] for n in names}
    order = random.Random(seed)
    for _ in range(rounds):
        order.shuffle(names)
        for name in names:
            start = time.perf_counter()
            images = variants[name]()
            rates[name].append(images / (time.perf_counter() - start))
    return rates


def classifier(onnx_path: Path, threads: int | None, read: ReadSettings) -> Predictor:
    """predict's classification pipeline on ``onnx_path``, reading pictures as ``read`` says."""
    settings = PredictSettings(task=TaskSettings(task="classify"), runner=RunnerSettings(threads=threads), read=read)
    return Predictor(onnx_path, settings)


def run_batch(
    onnx_path: Path, folder: Path, paths: list[Path], batch: int, threads: int | None, *, warmup: int, rounds: int
) -> dict:
    batches = premade_batches(paths, batch)
    with (
        OnnxRuntimeRunner(onnx_path, threads=threads) as runner,
        classifier(onnx_path, threads, ReadSettings(batch=batch)) as predictor,
        classifier(onnx_path, threads, ReadSettings(batch=batch, workers=0)) as serial,
        classifier(onnx_path, threads, ReadSettings(batch=batch, fast_decode=True)) as fast,
    ):
        assert predictor.preprocess.preset == PRESET, "the preprocessing recorded at export is used"

        def model_only() -> int:
            for x in batches:
                runner.infer({"input": x}, check=False)
            return len(paths)

        def predict(p: Predictor) -> Callable[[], int]:
            return lambda: sum(1 for _ in p.run([folder]))

        rates = measure(
            {
                MODEL_ONLY: model_only,
                PREDICT: predict(predictor),
                PREDICT_SERIAL: predict(serial),
                PREDICT_FAST: predict(fast),
            },
            warmup=warmup,
            rounds=rounds,
        )
    base = rates[MODEL_ONLY]
    stats: dict[str, Any] = {}
    for name, values in rates.items():
        stats[name] = summarize(values)
        stats[name]["paired_ratio"] = statistics.median(v / b for v, b in zip(values, base))
    return stats


def large_photos(folder: Path) -> list[Path]:
    """scikit-image's photos enlarged to 2048 pixels on the long side, JPEG quality 90: the size of camera photos, where
    draft decoding actually skips detail (the 640x480 test files are decoded whole either way)."""
    from skimage import data

    out = []
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        image = Image.fromarray(getattr(data, name)())
        scale = 2048 / max(image.size)
        path = folder.parent / f"large-{name}.jpg"
        image.resize((round(image.size[0] * scale), round(image.size[1] * scale)), Image.LANCZOS).save(path, quality=90)
        out.append(path)
    return out


def fast_decode_error(paths: list[Path]) -> dict[str, float]:
    """How far JPEG draft decoding moves the model input from the exact decode, in 1/255 units of the pixels fed
    (the ImageNet crop before normalisation): mean and max over all files, and the worst file's mean."""
    from dataclasses import replace

    from pt2trt.imaging.preprocess import PRESETS

    recipe = replace(PRESETS[PRESET], dtype="uint8", layout="NHWC")
    draft = lambda size: recipe.geometry(*size)[0]  # noqa: E731 - the size predict asks the decoder for
    means, maxima = [], []
    for path in paths:
        exact = recipe.apply(load_image(path))[0].astype(np.int16)
        approx = recipe.apply(load_image(path, draft))[0].astype(np.int16)
        diff = np.abs(exact - approx)
        means.append(float(diff.mean()))
        maxima.append(int(diff.max()))
    return {"mean": float(np.mean(means)), "worst_file_mean": max(means), "max": float(max(maxima))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images and rounds (a smoke run, noisier)")
    parser.add_argument("--images", type=int, help="images in the folder [default: 96, quick: 32]")
    parser.add_argument(
        "--config",
        action="append",
        metavar="BATCH[:THREADS]",
        help="batch size and ONNX Runtime intra-op threads [default: 1, 8 (ORT's default threads) and 8:1]",
    )
    parser.add_argument("--onnx", type=Path, help="reuse a resnet18 ONNX exported with --preprocess " + PRESET)
    args = parser.parse_args(argv)
    count = args.images or (32 if args.quick else 96)
    warmup, rounds = (1, 3) if args.quick else (1, 7)
    configs = [_config(c) for c in (args.config or ["1", "8", "8:1"])]
    info = machine_info()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="pt2trt-bench-") as tmp:
        onnx_path = args.onnx or Path(tmp) / "resnet18.onnx"
        if args.onnx is None:
            export_resnet18(onnx_path)
        folder = Path(tmp) / "images"
        folder.mkdir()
        paths = write_images(folder, count)
        error = {
            "640x480 test files": fast_decode_error(paths),
            "large photos": fast_decode_error(large_photos(folder)),
        }
        print(f"--fast-decode vs exact decode, per pixel of the model input (1/255): {error}", flush=True)
        for batch, threads in configs:
            key = _key(batch, threads)
            print(f"{key}: {count} JPEG files {IMAGE_SIZE[0]}x{IMAGE_SIZE[1]}, {rounds} rounds", flush=True)
            results[key] = run_batch(onnx_path, folder, paths, batch, threads, warmup=warmup, rounds=rounds)

    verdicts = {}
    for key, stats in results.items():
        rows = [
            [name, f"{s['median']:.1f}", f"{s['min']:.1f}", f"{s['max']:.1f}", f"{s['paired_ratio']:.3f}x", str(s["n"])]
            for name, s in stats.items()
        ]
        print_table(
            ["variant", "images/s median", "min", "max", "vs model only (paired)", "rounds"],
            rows,
            title=f"resnet18, ONNX Runtime CPU, {key}",
        )
        print()
        verdicts[key] = stats[PREDICT]["paired_ratio"] >= TARGET_RATIO
    for key, stats in results.items():
        ratio = stats[PREDICT]["paired_ratio"]
        print(f"{key}: predict / model only = {ratio:.3f}x (target >= {TARGET_RATIO}x: ", end="")
        print("met)" if verdicts[key] else "MISSED)")
    record = {
        "benchmark": NAME,
        "quick": args.quick,
        "machine": info,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "config": {
            "model": MODEL,
            "input": INPUT,
            "preprocess": PRESET,
            "images": count,
            "image_size": list(IMAGE_SIZE),
            "image_format": "JPEG quality 90",
            "configs": [{"batch": b, "ort_threads": t} for b, t in configs],
            "warmup": warmup,
            "rounds": rounds,
            "runner": "OnnxRuntimeRunner (CPUExecutionProvider; intra-op threads as configured, default: ORT's)",
            "method": "one pass over the folder per variant per round; seeded random order; paired = median over "
            "rounds of the per-round ratio to model only",
        },
        "unit": "images per second",
        "results": results,
        "target_ratio": TARGET_RATIO,
        "target_statistic": f"results[config]['{PREDICT}'].paired_ratio",
        "target_met": verdicts,
        "fast_decode_error_per_pixel_255": error,
    }
    print("wrote", write_result(NAME, record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
