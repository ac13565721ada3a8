"""A real Ray cluster on this machine for the sweep tests: 127.0.0.1 only, a temp dir of its own, always shut down.

``ray.cluster_utils.Cluster`` (Ray's own multi-node test cluster) starts real GCS and raylet processes, one raylet per
node; a second node may *declare* a GPU (``num_gpus=1``) so that Ray places GPU tasks there although this machine has
none. Shutting down kills the processes the cluster started by their ids (``ray stop`` would kill every Ray process of
the machine by name); agents a raylet spawned and that outlive it are found from the process tree beforehand and
killed by id too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": Ray keeps 127.0.0.1 (its default on Windows and macOS)


@dataclass
class RayCluster:
    address: str
    head_node: str
    gpu_node: str | None
    temp_dir: Path


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def _descendants(roots: list[int]) -> dict[int, str]:
    """pid -> command line of every process under ``roots`` (the roots included)."""
    tree, found, stack = _children(), {}, list(roots)
    while stack:
        pid = stack.pop()
        if pid in found:
            continue
        try:
            found[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        stack += tree.get(pid, [])
    return found


def _kill_survivors(processes: dict[int, str]) -> None:
    """SIGKILL those of ``processes`` still running the same command line (a reused pid is left alone)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        alive = {p: c for p, c in processes.items() if _same(p, c)}
        if not alive:
            return
        time.sleep(0.2)
    for pid in alive:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _same(pid: int, cmdline: str) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return status != "Z" and Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace") == cmdline
    except OSError:
        return False


@contextlib.contextmanager
def ray_cluster(*, gpu_node: bool = False, head_cpus: int = 2) -> Iterator[RayCluster]:
    """A head node (``head_cpus`` CPUs, no GPU) and, with ``gpu_node``, a second node declaring 1 CPU and 1 GPU."""
    import ray
    import ray._private.ray_constants as constants
    from ray.cluster_utils import Cluster

    base = Path(tempfile.mkdtemp(prefix="pt2trt-ray-"))  # short: Ray's socket paths must stay under 108 characters
    (base / "ray").mkdir()
    saved = {key: os.environ.get(key) for key in ("RAY_TMPDIR", LOOPBACK)}
    saved_flag = constants.ENABLE_RAY_CLUSTER
    os.environ["RAY_TMPDIR"] = str(base)  # the Cluster's address file goes here, not into the machine's /tmp/ray
    os.environ[LOOPBACK] = "0"
    constants.ENABLE_RAY_CLUSTER = False
    cluster = None
    try:
        common = {"node_ip_address": "127.0.0.1", "include_dashboard": False}
        cluster = Cluster(
            initialize_head=True,
            head_node_args={"num_cpus": head_cpus, "num_gpus": 0, "temp_dir": str(base / "ray"), **common},
        )
        gpu = cluster.add_node(num_cpus=1, num_gpus=1, **common) if gpu_node else None
        yield RayCluster(cluster.address, cluster.head_node.node_id, gpu.node_id if gpu else None, base)
    finally:
        roots = []
        for node in [cluster.head_node, *cluster.worker_nodes] if cluster is not None else []:
            roots += [info.process.pid for infos in node.all_processes.values() for info in infos]
        started = _descendants(roots)
        if ray.is_initialized():
            ray.shutdown()
        if cluster is not None:
            cluster.shutdown()
        _kill_survivors(started)
        constants.ENABLE_RAY_CLUSTER = saved_flag
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(base, ignore_errors=True)
