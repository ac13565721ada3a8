"""Load a PyTorch model from a spec string.

Supported specs (the ``MODEL`` argument of the CLI):

* ``path/to/file.py:Name`` – a class is instantiated with no arguments, a function is called;
* ``package.module:Name`` – the same, from an importable module;
* ``torchvision:resnet18`` – any torchvision classification/segmentation/detection builder, random weights;
* ``timm:NAME`` – a timm model, random weights (needs ``timm``);
* ``model.ts`` / ``model.pt`` – a TorchScript archive (``torch.jit.save``);
* ``model.pt2`` – an ExportedProgram (``torch.export.save``).

``weights`` loads a state_dict with ``torch.load(weights_only=True)``: no code in the file is executed. A file
holding a whole pickled module is refused unless the caller passes ``allow_pickle=True``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.errors import Pt2trtError
from pt2trt.pytorch.weights import PICKLE_HINT as PICKLE_HINT
from pt2trt.pytorch.weights import load_weights, saved_module
from pt2trt.settings.model import ModelSource

if TYPE_CHECKING:
    import torch

_TORCHSCRIPT_SUFFIXES = (".ts", ".torchscript", ".jit", ".pt", ".pth")


@dataclass
class LoadedModel:
    """A model ready to run: the module in eval mode, where it came from, and its forward parameters."""

    module: torch.nn.Module
    spec: str
    kind: str
    parameters: list[str] = field(default_factory=list)
    required: int = 0
    variadic: bool = False

    def input_names(self, count: int) -> list[str]:
        """Default names for ``count`` inputs: ``forward``'s parameter names, then ``input_N``."""
        names = self.parameters[:count]
        return names + [f"input_{i}" for i in range(len(names), count)]

    def check_input_count(self, count: int) -> None:
        """Raise a user error when ``count`` inputs cannot be passed to ``forward``."""
        if count < self.required or (count > len(self.parameters) and not self.variadic):
            want = (
                str(self.required)
                if self.required == len(self.parameters)
                else f"{self.required} to {len(self.parameters)}"
            )
            names = ", ".join(self.parameters) or "none"
            raise Pt2trtError(
                f"{self.spec} takes {want} input(s) ({names}) but {count} {'was' if count == 1 else 'were'} given",
                "Pass one --input NAME:SHAPE per forward() argument, in order",
            )


def load_model(
    spec: str | torch.nn.Module | ModelSource,
    *,
    weights: str | Path | None = None,
    allow_pickle: bool = False,
    strict: bool = True,
    init_seed: int = 0,
) -> LoadedModel:
    """Build the module ``spec`` names, load ``weights`` into it and put it in eval mode.

    Construction runs under ``torch.manual_seed(init_seed)``, so an architecture with random weights is the same
    model in every process: ``export`` and a later ``verify`` of the same spec compare identical weights.
    """
    if isinstance(spec, ModelSource):  # a spec with the weights to load into it
        source = spec
        spec, weights, allow_pickle = source.spec, source.weights or weights, source.allow_pickle or allow_pickle
    if isinstance(spec, str):
        _check_files_exist(spec, weights)  # before importing torch: a typo should not cost seconds
    import torch

    if isinstance(spec, torch.nn.Module):
        loaded = LoadedModel(spec, type(spec).__name__, "module")
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(init_seed)
            loaded = _load_from_spec(spec, allow_pickle=allow_pickle)
    if weights is not None:
        load_weights(loaded.module, weights, allow_pickle=allow_pickle, strict=strict)
    if loaded.kind == "exported-program":
        # an ExportedProgram is traced in the mode it was exported in; its module refuses .eval()
        loaded.parameters = list(getattr(loaded.module, "_pt2trt_inputs", []))
        loaded.required = len(loaded.parameters)
    else:
        loaded.module.eval()
        loaded.parameters, loaded.required, loaded.variadic = forward_parameters(loaded.module)
    return loaded


def _check_files_exist(spec: str, weights: str | Path | None) -> None:
    prefix, sep, _ = spec.partition(":")
    if sep and prefix in ("torchvision", "timm"):
        path = None
    elif sep and (prefix.endswith(".py") or "/" in prefix or "\\" in prefix):
        path = Path(prefix)
    elif not sep or Path(spec).suffix in (".pt2", *_TORCHSCRIPT_SUFFIXES):
        path = Path(spec)
    else:
        path = None
    if path is not None and not path.is_file():
        raise Pt2trtError(f"model file not found: {path}", "Check the path, or use file.py:Name / torchvision:NAME")
    if weights is not None and not Path(weights).is_file():
        raise Pt2trtError(f"weights file not found: {weights}", "Check the path of --weights")


def _load_from_spec(spec: str, *, allow_pickle: bool) -> LoadedModel:
    prefix, sep, name = spec.partition(":")
    if sep and prefix == "torchvision":
        return LoadedModel(_torchvision_model(name), spec, "torchvision")
    if sep and prefix == "timm":
        return LoadedModel(_timm_model(name), spec, "timm")
    path = Path(spec)
    if path.suffix == ".pt2":
        return LoadedModel(_exported_program(path), spec, "exported-program")
    if path.suffix in _TORCHSCRIPT_SUFFIXES or (path.is_file() and not sep):
        return LoadedModel(saved_module(path, allow_pickle=allow_pickle), spec, "file")
    if sep and (prefix.endswith(".py") or "/" in prefix or "\\" in prefix):
        module = _import_file(Path(prefix))
        return LoadedModel(_build(getattr_or_fail(module, name, spec), spec), spec, "python-file")
    if sep and prefix and name:
        try:
            with no_exit(f"importing {prefix}"):
                module = importlib.import_module(prefix)
        except ImportError as exc:
            raise Pt2trtError(
                f"cannot import module '{prefix}' for model {spec}: {exc}",
                "Use path/to/file.py:Name for a file, or install the package that provides it",
            ) from exc
        return LoadedModel(_build(getattr_or_fail(module, name, spec), spec), spec, "python-module")
    if not path.exists() and not sep:
        raise Pt2trtError(f"model file not found: {spec}", "Check the path, or use file.py:Name / torchvision:NAME")
    raise Pt2trtError(
        f"cannot tell what kind of model '{spec}' is",
        "Use file.py:Name, package.module:Name, torchvision:NAME, timm:NAME, a TorchScript file or a .pt2",
    )


def getattr_or_fail(module: Any, name: str, spec: str) -> Any:
    if not hasattr(module, name):
        public = sorted(n for n in vars(module) if not n.startswith("_"))
        close = [n for n in public if n.lower() == name.lower()]
        hint = f"Did you mean '{close[0]}'?" if close else "Check the name after the ':'"
        raise Pt2trtError(f"'{name}' is not defined in {spec.rpartition(':')[0]}", hint)
    return getattr(module, name)


def _import_file(path: Path) -> Any:
    if not path.is_file():
        raise Pt2trtError(f"model file not found: {path}", "Check the path before the ':'")
    mod_name = f"_pt2trt_user_{abs(hash(path.resolve()))}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise Pt2trtError(f"cannot import {path} as a Python file", "Give a .py file, as path/to/model.py:ClassName")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    sys.path.insert(0, str(path.parent.resolve()))  # let the file import its neighbours
    try:
        with no_exit(f"importing {path}"):
            spec.loader.exec_module(module)
    except Exception as exc:
        if isinstance(exc, Pt2trtError):
            raise
        sys.modules.pop(mod_name, None)
        raise Pt2trtError(
            f"importing {path} failed: {type(exc).__name__}: {exc}",
            "Fix the error in that file (run it with python to see the traceback)",
        ) from exc
    finally:
        sys.path.remove(str(path.parent.resolve()))
    return module


@contextlib.contextmanager
def no_exit(what: str) -> Iterator[None]:
    """Model code that calls ``sys.exit()`` (a script's ``main()`` run at import) is a user error, not an exit."""
    try:
        yield
    except SystemExit as exc:
        raise Pt2trtError(
            f"{what} called sys.exit({exc.code!r})",
            'Model code must not exit: put the script part under `if __name__ == "__main__":`',
        ) from None


def _build(obj: Any, spec: str) -> torch.nn.Module:
    """Instantiate a class with no arguments or call a function; the result must be an nn.Module."""
    import torch

    if isinstance(obj, torch.nn.Module):
        return obj
    if not callable(obj):
        raise Pt2trtError(
            f"{spec} is a {type(obj).__name__}, not an nn.Module, class or function",
            "Name an nn.Module, its class or a function returning one, as path/to/model.py:NAME",
        )
    try:
        with no_exit(f"building {spec}"):
            result = obj()
    except Pt2trtError:
        raise
    except Exception as exc:
        what = "instantiating" if inspect.isclass(obj) else "calling"
        raise Pt2trtError(
            f"{what} {spec} with no arguments failed: {type(exc).__name__}: {exc}",
            "Point MODEL at a function that builds the model with its arguments filled in",
        ) from exc
    if not isinstance(result, torch.nn.Module):
        raise Pt2trtError(
            f"{spec} returned a {type(result).__name__}, not an nn.Module", "Name a function that returns an nn.Module"
        )
    return result


def _torchvision_model(name: str) -> torch.nn.Module:
    try:
        import torchvision
    except ImportError as exc:
        raise Pt2trtError(
            f"torchvision is not importable ({exc})", 'Install it with: pip install "pt2trt[vision]"'
        ) from exc
    available = set(torchvision.models.list_models())
    if name not in available:
        import difflib

        close = difflib.get_close_matches(name, sorted(available), n=3)
        hint = f"Did you mean {', '.join(close)}?" if close else "See torchvision.models.list_models()"
        raise Pt2trtError(f"torchvision has no model '{name}'", hint)
    builder = torchvision.models.get_model_builder(name)
    kwargs: dict[str, Any] = {"weights": None}
    if "weights_backbone" in inspect.signature(builder).parameters:
        kwargs["weights_backbone"] = None  # detection/segmentation would otherwise download ImageNet weights
    return builder(**kwargs)


def _timm_model(name: str) -> torch.nn.Module:
    try:
        import timm
    except ImportError as exc:
        raise Pt2trtError("timm is not installed", 'Install it with: pip install "pt2trt[timm]"') from exc
    try:
        return timm.create_model(name, pretrained=False)
    except RuntimeError as exc:
        raise Pt2trtError(
            f"timm cannot build '{name}': {exc}", "Check the name with timm.list_models(), and that timm is up to date"
        ) from exc


def _exported_program(path: Path) -> torch.nn.Module:
    import torch

    if not path.is_file():
        raise Pt2trtError(f"model file not found: {path}", "Check the path of the model file")
    try:
        program = torch.export.load(str(path))
    except Exception as exc:
        raise Pt2trtError(f"cannot load ExportedProgram {path}: {exc}", "Save it with torch.export.save") from exc
    module: Any = program.module()
    module._pt2trt_inputs = [
        spec.arg.name for spec in program.graph_signature.input_specs if spec.kind.name == "USER_INPUT"
    ]
    return module


def forward_parameters(module: torch.nn.Module) -> tuple[list[str], int, bool]:
    """``forward``'s positional parameter names, how many are required, and whether it takes ``*args``."""
    import torch

    if isinstance(module, torch.jit.ScriptModule):
        try:
            args = module.forward.schema.arguments[1:]  # type: ignore[attr-defined]  # a ScriptMethod's
        except (AttributeError, RuntimeError):
            return [], 0, True
        names = [a.name for a in args]
        return names, sum(1 for a in args if not a.has_default_value()), False
    try:
        sig = inspect.signature(module.forward)
    except (TypeError, ValueError):
        return [], 0, True
    names, required, variadic = [], 0, False
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            variadic = True
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
            required += p.default is p.empty
    return names, required, variadic
