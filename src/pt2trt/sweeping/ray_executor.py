"""The Ray executor: ``--ray local`` starts a Ray cluster on this machine (loopback only, its own temp dir, shut down
at the end); ``--ray ADDRESS`` joins an existing one.

Per model, one task runs convert's CPU part anywhere (``num_cpus=1``); when the cluster has GPUs, a second task asks
for ``num_gpus=1`` and builds and benches the engine from convert's build plan on a GPU node. Both return their
results as Ray objects (the output folder and the engine as bytes), so no shared disk is assumed. Ray's own task
retry (``max_retries=1``) covers a worker that dies; a convert process killed inside a task is run once more by the
task itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import traceback
from collections.abc import Iterator
from typing import Any

from pt2trt.errors import Pt2trtError
from pt2trt.sweeping import ray_tasks
from pt2trt.sweeping.child import ChildRun
from pt2trt.sweeping.convert_report import BUILD_PLAN
from pt2trt.sweeping.manifest import Entry
from pt2trt.sweeping.outcome import lost_result, model_result
from pt2trt.sweeping.records import FAILED, PASSED, Latency, ModelResult
from pt2trt.sweeping.store import OutputFolder

LOCAL = "local"
INSTALL_HINT = 'Install it with: pip install "pt2trt[ray]"'
_LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": Ray keeps 127.0.0.1 instead of the host's network address


def import_ray() -> Any:
    """The ``ray`` module, or a one-line error that says how to install it."""
    try:
        import ray
    except ImportError:
        raise Pt2trtError("pt2trt sweep --ray needs Ray, which is not installed", INSTALL_HINT) from None
    return ray


@contextlib.contextmanager
def _loopback_only() -> Iterator[None]:
    """While a local cluster starts: every Ray process binds 127.0.0.1, not the machine's network address (Ray's
    switch for that is named after Windows and macOS, where it is the default)."""
    import ray._private.ray_constants as constants  # read at import; Ray's processes read the environment

    before_env, before_flag = os.environ.get(_LOOPBACK_ENV), getattr(constants, "ENABLE_RAY_CLUSTER", None)
    os.environ[_LOOPBACK_ENV] = "0"
    if before_flag is not None:
        constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        if before_flag is not None:
            constants.ENABLE_RAY_CLUSTER = before_flag
        if before_env is None:
            os.environ.pop(_LOOPBACK_ENV, None)
        else:
            os.environ[_LOOPBACK_ENV] = before_env


def _host_port(address: str) -> tuple[str, int] | None:
    """``host:port`` of ``address`` (``ray://host:port`` too), None for ``auto`` and other forms Ray resolves."""
    text = address.split("://", 1)[-1]
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


def _is_loopback(address: str) -> bool:
    parsed = _host_port(address)
    return parsed is not None and (parsed[0] == "localhost" or parsed[0].startswith("127.") or parsed[0] == "::1")


def _reachable(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds when nothing listens at ``address`` (Ray itself waits minutes, logging on stderr)."""
    import socket

    parsed = _host_port(address)
    if parsed is None:
        return
    try:
        socket.create_connection(parsed, timeout=timeout).close()
    except OSError as exc:
        raise Pt2trtError(
            f"no Ray cluster answers at {address} ({exc.strerror or exc})",
            "Check the address (`ray status` on the head node prints it), or run with --ray local",
        ) from None


class RayExecutor:
    """Runs each model as Ray tasks on a local or an existing cluster."""

    def __init__(self, address: str, workers: int | None = None, bench_duration: float = 1.0) -> None:
        self.address = address
        self.workers = workers
        self.bench_duration = bench_duration
        self.ray: Any = None
        self._temp_dir: str | None = None
        self._owns_connection = False
        self._pending: list[Any] = []

    def describe(self) -> str:
        resources = self.ray.cluster_resources() if self.ray is not None else {}
        nodes = sum(1 for node in self.ray.nodes() if node.get("Alive")) if self.ray is not None else 0
        where = "a local Ray cluster" if self.address == LOCAL else f"the Ray cluster at {self.address}"
        return f"{where}: {nodes} node(s), {resources.get('CPU', 0):g} CPU(s), {resources.get('GPU', 0):g} GPU(s)"

    def __enter__(self) -> RayExecutor:
        ray = self.ray = import_ray()
        if ray.is_initialized():  # the caller's own connection (Python API): used, left open
            return self
        options: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
        try:
            if self.address == LOCAL:
                self._temp_dir = tempfile.mkdtemp(prefix="pt2trt-ray-")
                with _loopback_only():
                    ray.init(
                        address=LOCAL, num_cpus=self.workers, include_dashboard=False, _temp_dir=self._temp_dir,
                        **options,
                    )  # fmt: skip
            else:
                _reachable(self.address)
                with _loopback_only() if _is_loopback(self.address) else contextlib.nullcontext():
                    ray.init(address=self.address, **options)
        except Pt2trtError:
            raise
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError... for a bad address
            self._remove_temp_dir()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            where = "start a local Ray cluster" if self.address == LOCAL else f"join the Ray cluster at {self.address}"
            raise Pt2trtError(
                f"cannot {where}: {first[:300]}",
                "Check the address (`ray status` on the head node prints it), or run with --ray local",
            ) from None
        self._owns_connection = True
        return self

    def __exit__(self, *exc: object) -> None:
        ray = self.ray
        if ray is None:
            return
        for ref in self._pending:  # a sweep stopped half way leaves no task running on the cluster: the task's
            with contextlib.suppress(Exception):  # KeyboardInterrupt stops its convert child
                ray.cancel(ref)
        if self._owns_connection:
            ray.shutdown()
        self._remove_temp_dir()

    def _remove_temp_dir(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def run(self, entries: list[Entry], store: OutputFolder) -> Iterator[ModelResult]:
        """Each entry's result as it finishes, its folder (and engine, when built) in place in OUTDIR."""
        ray = self.ray
        gpus = ray.cluster_resources().get("GPU", 0)
        convert = ray.remote(num_cpus=1, max_retries=1)(ray_tasks.convert_task)
        engine = ray.remote(num_gpus=1, max_retries=1)(ray_tasks.engine_task)
        pending: dict[Any, tuple[Entry, ModelResult | None]] = {
            convert.remote(e.config, e.name): (e, None) for e in entries
        }
        while pending:
            self._pending = list(pending)
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            entry, converted = pending.pop(ref)
            if converted is None:
                result = self._converted(entry, ref, store, gpus)
                planned = (store.workroot(entry.name) / entry.name / BUILD_PLAN).is_file()
                if result.status == PASSED and gpus and planned:
                    pending[engine.remote(ref, entry.name, self.bench_duration)] = (entry, result)
                    continue
            else:
                result = converted
                self._engine_built(entry, result, ref, store)
            store.place(store.workroot(entry.name), result)
            yield result
        self._pending = []

    def _converted(self, entry: Entry, ref: Any, store: OutputFolder, gpus: float) -> ModelResult:
        """The CPU task's result: its folder unpacked under .work/NAME/, its ModelResult."""
        from pt2trt.sweeping import archive

        workroot = store.work(entry.name)
        try:
            data = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            _write_log(workroot / entry.name, exc)
            return lost_result(entry, "worker", _ray_reason(exc), {"executor": "ray"})
        run = ChildRun(**data["run"])
        if run.interrupted:
            raise KeyboardInterrupt
        archive.unpack(data["archive"], workroot)
        result = model_result(entry, run, workroot / entry.name, data["where"])
        if result.engine is not None and not gpus:
            result.engine["gpu"] = "no GPU in the Ray cluster: not built (build-plan.json)"
        return result

    def _engine_built(self, entry: Entry, result: ModelResult, ref: Any, store: OutputFolder) -> None:
        """Merge the GPU task's record into ``result``; write the engine beside convert's output when built."""
        folder = store.workroot(entry.name) / entry.name
        try:
            record: dict[str, Any] = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            record = {"status": "error", "reason": _ray_reason(exc)}
        engine, metadata = record.pop("engine", None), record.pop("metadata", None)
        if engine is not None:
            (folder / ray_tasks.ENGINE).write_bytes(engine)
            if metadata is not None:
                (folder / ray_tasks.ENGINE_METADATA).write_bytes(metadata)
        for label, stats in (record.pop("latency", None) or {}).items():
            result.latency[label] = Latency(**stats)
        result.engine = record
        if record.get("status") != "built":
            node = (record.get("where") or {}).get("node", "?")
            result.status, result.step = FAILED, "gpu-build"
            result.reason = f"engine not built on GPU node {str(node)[:12]}: {record.get('reason', '')}"


def _ray_reason(exc: Exception) -> str:
    """One line for a task that Ray could not finish (its worker died on each try, the node was lost...)."""
    text = str(exc).strip().splitlines()
    first = next((line for line in text if line.strip()), type(exc).__name__)
    return f"the Ray task failed after its retry ({type(exc).__name__}): {first.strip()}"


def _write_log(folder: Any, exc: Exception) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sweep-error.log").write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
