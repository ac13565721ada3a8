"""What runs on a Ray worker: convert's CPU part (one task per model) and the engine build + TensorRT bench on a GPU
node (a second task that asks for ``num_gpus=1``). Both return plain dicts with bytes in them: the output folder,
the engine. Nothing is assumed about a shared disk.

These functions run in the worker's Python (pt2trt must be installed there); they import nothing of Ray at module
level, so the driver can import this module without Ray.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from pt2trt.sweeping import archive, convert_config, convert_report
from pt2trt.sweeping.child import run_convert

ENGINE = "model.engine"
ENGINE_METADATA = "model.engine.json"


def _where() -> dict[str, Any]:
    import ray

    context = ray.get_runtime_context()
    return {"executor": "ray", "node": context.get_node_id(), "host": socket.gethostname(), "pid": os.getpid()}


def _scratch() -> tempfile.TemporaryDirectory[str]:
    """A temporary folder under the Ray node's own temp dir (cleared with the cluster's if this worker dies)."""
    import ray

    root = Path(ray.get_runtime_context().get_temp_dir())
    return tempfile.TemporaryDirectory(prefix="pt2trt-sweep-", dir=root if root.is_dir() else None)


def convert_task(config: str, name: str) -> dict[str, Any]:
    """Run ``pt2trt convert --config`` with ``config`` (the entry's YAML, written into the task's scratch folder; a
    child process, run once more if killed) with no GPU visible: convert writes the build plan and the GPU task builds
    from it. Returns the child's ending, the output folder as bytes, and where."""
    where = _where()
    with _scratch() as tmp:
        run = run_convert(config, Path(tmp), name, env={"CUDA_VISIBLE_DEVICES": ""})
        data = archive.pack(Path(tmp) / name)
    return {"run": run.to_dict(), "archive": data, "where": where}


def engine_task(converted: dict[str, Any], name: str, bench_duration: float) -> dict[str, Any]:
    """On a node with a GPU: ``pt2trt build`` from convert's build-plan.json, then ``pt2trt bench`` of the engine.

    Returns ``status`` built / not built / skipped with the node, the host and the GPU ids Ray assigned, the build's
    closing line or its one-line error, and when built the engine and its metadata as bytes and TensorRT's latency.
    """
    import ray

    record: dict[str, Any] = {"where": _where(), "gpu_ids": [str(g) for g in ray.get_gpu_ids()]}
    with _scratch() as tmp:
        root = Path(tmp)
        archive.unpack(converted["archive"], root)
        plan_path = root / name / convert_report.BUILD_PLAN
        if not plan_path.is_file():
            return record | {"status": "skipped", "reason": "convert stopped before the engine plan"}
        command = shlex.split(json.loads(plan_path.read_text())["command"])[1:]  # pt2trt build ONNX -o ENGINE ...
        build = _pt2trt(command, root)
        if build.returncode != 0:
            return record | {"status": "not built", "reason": _error(build)}
        engine = root / name / ENGINE
        record |= {"status": "built", "line": build.stdout.strip().splitlines()[-1] if build.stdout.strip() else ""}
        record["engine"] = engine.read_bytes()
        sidecar = root / name / ENGINE_METADATA
        record["metadata"] = sidecar.read_bytes() if sidecar.is_file() else None
        onnx = command[1] if len(command) > 1 else str(root / name / "model.onnx")
        args = ["bench", onnx, "--engine", f"{name}/{ENGINE}", "--backend", "tensorrt", "--json", "-q"]
        bench = _pt2trt([*args, "--duration", str(bench_duration)], root)
        if bench.returncode == 0:
            latency = convert_report.latency(json.loads(bench.stdout))
            record["latency"] = {label: value.to_dict() for label, value in latency.items()}
        else:
            record["bench_error"] = _error(bench)
    return record


def _pt2trt(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(convert_config.cli_command(args), cwd=cwd, capture_output=True, text=True)


def _error(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.startswith("pt2trt: error: ")]
    if lines:
        return lines[-1].removeprefix("pt2trt: error: ")
    tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
    return f"exit {proc.returncode}: {tail[-1] if tail else 'no output'}"
