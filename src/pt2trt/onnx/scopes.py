"""Which PyTorch module each ONNX node came from, and connected groups of nodes (union-find).

Both PyTorch exporters record which module a node came from, in different places:

* legacy (TorchScript) exporter: the node name, ``/layer3/layer3.0/conv2/Conv``: one path component per module,
  each ending in the module's attribute name (``layer3.0`` -> child ``0`` of ``layer3``), a ``_N`` suffix for the
  (N+1)-th call of the same module (``relu_1``);
* dynamo exporter: per-node ``metadata_props``: ``pkg.torch.onnx.name_scopes`` holds the qualified names
  (``['', 'layer1', 'layer1.0', 'layer1.0.bn1', '<fx node>']``) and ``pkg.torch.onnx.class_hierarchy`` their
  classes; older versions write ``namespace``, the same with classes in one string.

Pure functions on node names and metadata, used by the graph picture (:mod:`pt2trt.view.graph_summary`) and the
layer-wise debugger (:mod:`pt2trt.debug`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection, Hashable, Iterable
from typing import TYPE_CHECKING, TypeVar

from pt2trt.onnx import metadata as meta

if TYPE_CHECKING:
    import onnx

NAME_SCOPES = "pkg.torch.onnx.name_scopes"
CLASS_HIERARCHY = "pkg.torch.onnx.class_hierarchy"
NAMESPACE = "namespace"
_CALL_SUFFIX = re.compile(r"^(.+)_(\d+)$")

Scope = tuple[tuple[str, int | None], ...]  # (qualified module name, call number if the exporter recorded it)
T = TypeVar("T", bound=Hashable)


def exporter_of(model: onnx.ModelProto) -> str | None:
    """``dynamo`` or ``legacy`` as recorded by pt2trt, else recognised from the node names / metadata."""
    recorded = meta.read_metadata(model).get(meta.EXPORTER)
    if recorded in ("dynamo", "legacy"):
        return recorded
    nodes = list(model.graph.node)
    if any(p.key in (NAME_SCOPES, NAMESPACE) for n in nodes for p in n.metadata_props):
        return "dynamo"
    if any(n.name.startswith("/") for n in nodes):
        return "legacy"
    return None


def node_scopes(model: onnx.ModelProto, exporter: str | None, module_names: Collection[str] | None) -> list[Scope]:
    """Each top-level node's module path, outermost first (empty for the model's own code or unknown)."""
    nodes = list(model.graph.node)
    if exporter == "dynamo":
        return [tuple((name, None) for name, _ in dynamo_modules(n)) for n in nodes]
    if exporter == "legacy":
        return _legacy_scopes(nodes, module_names)
    return [() for _ in nodes]


def dynamo_modules(node: onnx.NodeProto) -> list[tuple[str, str]]:
    """(qualified name, class name) of each module a dynamo-exported node lies in, outermost first.

    The model itself (the first entry) and the fx node that produced the ONNX node (the last) are left out; the class
    is ``""`` when the exporter did not record it.
    """
    props = {p.key: p.value for p in node.metadata_props}
    names: list[str] = []
    classes: list[str] = []
    if NAME_SCOPES in props:
        names = _literal_list(props[NAME_SCOPES])
        classes = _literal_list(props.get(CLASS_HIERARCHY, "[]"))
    elif NAMESPACE in props:  # ": pkg.Model/layer1: torch...Sequential/layer1.0: ...BasicBlock/add: aten.add.Tensor"
        parts = [part.split(": ") for part in props[NAMESPACE].split("/")]
        names = [p[0] for p in parts]
        classes = [p[1] if len(p) > 1 else "" for p in parts]
    return [
        (name, classes[i].rpartition(".")[2] if i < len(classes) else "")
        for i, name in enumerate(names)
        if 0 < i < len(names) - 1 and name
    ]


def _literal_list(text: str) -> list[str]:
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return []
    return [str(v) for v in parsed] if isinstance(parsed, list | tuple) else []


def legacy_path(name: str) -> list[str]:
    """The module path components of a legacy-exported node name: ``/layer1/layer1.0/conv1/Conv`` -> 3 of them."""
    return [p for p in name.split("/")[1:-1] if p] if name.startswith("/") else []


def plain_names(path: list[str]) -> list[str]:
    """Qualified module names along a legacy path, each component read the most likely way (see :func:`qualify`)."""
    out: list[str] = []
    parent = ""
    for comp in path:
        parent = qualify(parent, comp)[0]
        out.append(parent)
    return out


def qualify(parent: str, comp: str) -> list[str]:
    """Candidate qualified names of a path component, most likely first.

    The legacy exporter names a module by its qualified name from the last non-numeric atom on (``layer1.0``,
    ``block.0.0``, ``conv1``), so the component may repeat the tail of its parent's name (``features.1.block.0`` +
    ``block.0.0`` -> ``features.1.block.0.0``) or simply extend it (``layer1.0`` + ``conv1``).
    """
    p = parent.split(".") if parent else []
    c = comp.split(".")
    options = []
    for j in range(len(p) - 1, -1, -1):
        if p[j] == c[0] and len(c) > len(p) - j and p[j + 1 :] == c[1 : len(p) - j]:
            options.append(".".join(p[:j] + c))
            break
    options.append(".".join(p + c))
    return options


def _legacy_scopes(nodes: list[onnx.NodeProto], module_names: Collection[str] | None) -> list[Scope]:
    paths = [legacy_path(n.name) for n in nodes]
    if module_names is not None:
        names = set(module_names)
        return [_resolve_legacy(p, names.__contains__, calls_first=False) for p in paths]
    # Without the model, a name is taken to exist when some node's path spells it out, so that "relu_1" is read as
    # the second call of "relu" only when a plain "relu" appears beside it.
    spelled = {q for p in paths for q in plain_names(p)}
    return [_resolve_legacy(p, spelled.__contains__, calls_first=True) for p in paths]


def _resolve_legacy(path: list[str], exists: Callable[[str], bool], *, calls_first: bool) -> Scope:
    """Qualified names for a legacy node path, with the call number its ``_N`` suffixes give.

    ``calls_first``: read ``relu_1`` as the second call of ``relu`` when ``relu`` exists, before trying a module
    named ``relu_1`` (when the names are only guessed from the paths, both "exist").
    """
    scope: list[tuple[str, int | None]] = []
    parent = ""
    for comp in path:
        options = [(q, 0) for q in qualify(parent, comp)]
        m = _CALL_SUFFIX.match(comp)
        if m:
            calls = [(q, int(m[2])) for q in qualify(parent, m[1])]
            options = calls + options if calls_first else options + calls
        qualified, call = next((o for o in options if exists(o[0])), options[0])
        scope.append((qualified, call))
        parent = qualified
    return tuple(scope)


def connected_groups(items: Iterable[T], links: Iterable[tuple[T, T]]) -> list[list[T]]:
    """Union-find: ``items`` joined by ``links`` into groups, each in the order of ``items``, ordered by first item.

    A link that names something outside ``items`` is ignored.
    """
    order = list(items)
    parent = {i: i for i in order}

    def find(i: T) -> T:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in links:
        if a in parent and b in parent:
            parent[find(b)] = find(a)
    groups: dict[T, list[T]] = {}
    for i in order:
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())
