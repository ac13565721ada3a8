"""Saved models and weights: TorchScript archives, pickled modules (only with ``allow_pickle``), state_dicts.

``torch.load`` runs with ``weights_only=True`` unless the user passes ``--allow-pickle``: loading a weights file never
runs code from it.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pt2trt.errors import Pt2trtError

if TYPE_CHECKING:
    import torch

PICKLE_HINT = (
    "Pickles can run arbitrary code; if you trust this file, pass --allow-pickle (allow_pickle=True), "
    "or save a state_dict and use --weights"
)


def saved_module(path: Path, *, allow_pickle: bool) -> torch.nn.Module:
    """A TorchScript archive, or (only with ``allow_pickle``) a whole pickled nn.Module."""
    import torch

    if not path.is_file():
        raise Pt2trtError(f"model file not found: {path}", "Check the path of the model file")
    if _is_torchscript(path):
        try:
            return torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:
            raise Pt2trtError(
                f"cannot load TorchScript file {path}: {exc}",
                "Check that the file was saved with torch.jit.save, and by a torch no newer than the installed one",
            ) from exc
    if not zipfile.is_zipfile(path) and not allow_pickle:
        raise Pt2trtError(
            f"{path} is neither a TorchScript archive nor a torch.save file",
            "Save the model with torch.jit.save or torch.save, or pass a .py file as path/to/model.py:ClassName",
        )
    obj = _torch_load(path, allow_pickle=allow_pickle)
    if isinstance(obj, torch.nn.Module):
        return obj
    if isinstance(obj, dict):
        raise Pt2trtError(
            f"{path} holds a state_dict, not a model",
            "Name the architecture as MODEL (file.py:Name, torchvision:NAME) and pass this file with --weights",
        )
    raise Pt2trtError(
        f"{path} holds a {type(obj).__name__}, not an nn.Module",
        "Save the nn.Module itself, or pass the class as path/to/model.py:ClassName with --weights FILE",
    )


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return any(n.split("/", 1)[-1].startswith("code/") or n.endswith("constants.pkl") for n in zf.namelist())


def _torch_load(path: Path, *, allow_pickle: bool) -> Any:

    with path.open("rb") as f:
        magic = f.read(2)
    if not zipfile.is_zipfile(path) and magic[:1] != b"\x80":  # neither torch.save's zip nor a legacy pickle
        raise Pt2trtError(f"{path} is not a torch.save file", "Save weights with torch.save(model.state_dict(), PATH)")

    import torch

    try:
        return torch.load(str(path), map_location="cpu", weights_only=not allow_pickle)
    except pickle.UnpicklingError as exc:
        if allow_pickle:
            raise Pt2trtError(
                f"cannot unpickle {path}: {exc}",
                "The file may be truncated or saved by another library; save it again with torch.save",
            ) from exc
        raise Pt2trtError(f"{path} contains Python objects beyond plain tensors", PICKLE_HINT) from exc
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise Pt2trtError(
            f"cannot read {path} with torch.load: {str(exc).splitlines()[0]}",
            "The file may be truncated or saved by another library; save it again with torch.save",
        ) from exc


def load_weights(module: torch.nn.Module, weights: str | Path, *, allow_pickle: bool, strict: bool) -> None:
    """Load a state_dict (or a checkpoint dict holding one) into ``module``."""
    import torch

    path = Path(weights)
    if not path.is_file():
        raise Pt2trtError(f"weights file not found: {path}", "Check the path of --weights")
    obj = _torch_load(path, allow_pickle=allow_pickle)
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model", "ema"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
            if isinstance(obj.get(key), torch.nn.Module):
                obj = obj[key].state_dict()
                break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise Pt2trtError(
            f"{path} does not hold a state_dict of tensors",
            "Save model.state_dict() with torch.save and pass it with --weights",
        )
    state = {k.removeprefix("module."): v for k, v in obj.items()}
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    resized = [k for k in state if k in expected and state[k].shape != expected[k].shape]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {missing[0]})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
    if resized:
        k = resized[0]
        problems.append(
            f"{len(resized)} of another shape (e.g. {k}: {list(state[k].shape)} vs {list(expected[k].shape)})"
        )
    if problems and (strict or resized):
        raise Pt2trtError(
            f"weights in {path} do not match the model: " + ", ".join(problems) + " keys",
            "Check that MODEL builds the same architecture the weights were trained with",
        )
    module.load_state_dict({k: v for k, v in state.items() if k in expected}, strict=False)
