"""Write a Triton model repository for one model: ``REPO/NAME/1/model.*`` + ``REPO/NAME/config.pbtxt``.

Every model folder is written into a staging folder first, every config is parsed against Triton's schema and
cross-checked against the model (and an engine's TensorRT against the Triton release), and only then are the folders
moved into place. Existing model folders are refused unless ``force``.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from pt2trt.errors import Pt2trtError
from pt2trt.files import staging_dir
from pt2trt.serve.checks import config_problems, refuse, tensorrt_problems
from pt2trt.serve.config import core_config, parse_config, to_text
from pt2trt.serve.ensemble import core_model_py, ensemble_models
from pt2trt.serve.model_io import KINDS, ModelIO, read_model_io
from pt2trt.settings import EnsembleSettings, ServeSettings


@dataclass
class RepositoryResult:
    """What was written: the repository, its model folders (core first), how long it took, and what was chosen
    for the user (``notes``: the ensemble's preprocessing and where it came from)."""

    repo: Path
    models: list[str]
    io: ModelIO
    max_batch_size: int
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def entry(self) -> str:
        """The model a client calls: the ensemble when there is one."""
        return next((m for m in self.models if m.endswith("_ensemble")), self.models[0])


def _copy_model(io: ModelIO, version_dir: Path, core: str) -> None:
    version_dir.mkdir(parents=True)
    if core == "python":
        shutil.copyfile(io.path, version_dir / "model.onnx")
        return
    filename = KINDS[io.kind][2]
    shutil.copyfile(io.path, version_dir / filename)
    if io.kind == "openvino":
        shutil.copyfile(io.path.with_suffix(".bin"), version_dir / "model.bin")
    if io.kind == "tensorrt":  # the metadata travels with the engine, so `pt2trt triton --check` can read it
        shutil.copyfile(io.path.with_name(io.path.name + ".json"), version_dir / f"{filename}.json")
    if io.kind == "onnx":
        data = [p for p in io.path.parent.glob(f"{io.path.name}.data")]  # external weights written by pt2trt
        for extra in data:
            shutil.copyfile(extra, version_dir / extra.name)


def write_repository(
    model: str | Path,
    repo: str | Path,
    settings: ServeSettings,
    *,
    ensemble: EnsembleSettings | None = None,
    force: bool = False,
) -> RepositoryResult:
    """Write (and check) the repository entries for ``model``; see the module docstring. ``settings.name`` ``None``
    names the model after its file."""
    start = time.perf_counter()
    io = read_model_io(model)
    repo = Path(repo)
    if settings.name is None:
        settings = replace(settings, name=Path(model).stem)
    if repo.exists() and not repo.is_dir():
        raise Pt2trtError(
            f"{repo} is a file, not a model repository folder", "Pass a folder path (it is created if missing)"
        )
    if not settings.name or "/" in settings.name or settings.name.startswith("."):
        raise Pt2trtError(f"'{settings.name}' is not a model name", "Use --name with letters, digits, _ or -")
    refuse(tensorrt_problems(io, settings.triton_release, settings.tensorrt_version), f"{io.path.name}")
    core = core_config(io, settings)
    configs = {core.name: (core, core_model_py(core.name, io) if settings.core == "python" else None)}
    notes: list[str] = []
    if ensemble is not None:
        models = ensemble_models(io, core, ensemble)
        configs.update(models.configs)
        notes += models.notes
    existing = [n for n in configs if (repo / n).exists()]
    if existing and not force:
        raise Pt2trtError(f"{repo / existing[0]} already exists", "Pass --force (force=True) to replace it")
    refuse(config_problems(parse_config(to_text(core), f"{core.name}/config.pbtxt"), io), f"{core.name}/config.pbtxt")

    written: list[Path] = []
    with staging_dir(repo / core.name) as tmp:
        for name, (config, code) in configs.items():
            folder = tmp / name
            if name == core.name:
                _copy_model(io, folder / "1", settings.core)
            else:
                (folder / "1").mkdir(parents=True)
            if code is not None:
                (folder / "1" / "model.py").write_text(code)
            text = to_text(config)
            parse_config(text, f"{name}/config.pbtxt")  # what Triton reads is what was checked
            (folder / "config.pbtxt").write_text(text)
        for name in configs:
            final = repo / name
            if final.exists():
                shutil.rmtree(final)
            (tmp / name).replace(final)
            written.extend(sorted(p for p in final.rglob("*") if p.is_file()))
    seconds = time.perf_counter() - start
    return RepositoryResult(repo, list(configs), io, core.max_batch_size, seconds, written, notes)
