"""TensorRT plugins a model may hold as nodes (``EfficientNMS_TRT``...) and whether a target still parses them.

A node named after a plugin parses only while TensorRT's plugin library registers that plugin. The facts (deprecated
since, removed in, the replacement, where NVIDIA says so) are the ``plugins`` section of
``pt2trt/data/tensorrt_onnx_ops.json``. A target is a family (``8.6``, ``10``: any 10.x, ``11``) or one release
(``10.15.1``): a family may straddle a removal (10.0 to 10.15 parse ``EfficientNMS_ONNX_TRT``, 10.16 does not).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pt2trt.backends.tensorrt.lint.facts import operator_data
from pt2trt.backends.tensorrt.lint.report import Finding, node_label
from pt2trt.backends.tensorrt.versions import TARGETS, Target, at_least

#: support states, from fine to unusable
DEPRECATED, REMOVED_IN_PART, REMOVED = "deprecated", "removed in part", "removed"


@dataclass(frozen=True)
class PluginSupport:
    """What a target's parser does with one plugin's node."""

    op: str
    state: str  # DEPRECATED, REMOVED_IN_PART or REMOVED
    why: str
    fix: str
    source: str


def plugin_facts() -> dict[str, dict[str, Any]]:
    return {k: v for k, v in operator_data().get("plugins", {}).items() if isinstance(v, dict)}


def target_span(target: str | Target) -> tuple[str, str | None, str]:
    """(first, last, label) of the TensorRT releases a target means; ``last`` None: no end (the newest family)."""
    name = target.name if isinstance(target, Target) else str(target).strip().lower().removeprefix("trt-")
    if name in TARGETS:
        newest = max(TARGETS, key=lambda n: tuple(int(p) for p in n.split(".")))
        first = name if "." in name else f"{name}.0"
        last = None if name == newest else f"{first.rsplit('.', 1)[0]}.999999"
        return first, last, f"{name}{'' if '.' in name else '.x'}"
    if not re.fullmatch(r"\d+(\.\d+)*", name):
        raise ValueError(f"not a TensorRT version: {target}")
    return name, name, name


def plugin_support(op: str, target: str | Target) -> PluginSupport | None:
    """How ``target`` treats a node of plugin ``op``; None when the plugin is unknown here or fully supported."""
    facts = plugin_facts().get(op)
    if facts is None:
        return None
    first, last, label = target_span(target)
    removed, deprecated = facts.get("removed"), facts.get("deprecated")
    fix = f"Use {facts['replacement']}"

    def reaches(version: str) -> bool:
        return last is None or at_least(last, version)

    if removed and at_least(first, removed):
        why = f"{op} was removed in TensorRT {removed}: the TensorRT {label} parser cannot import it"
        return PluginSupport(op, REMOVED, why, fix, facts["source"])
    if removed and reaches(removed):
        why = f"{op} was removed in TensorRT {removed}: TensorRT {label} before {removed} parses it, later ones do not"
        return PluginSupport(op, REMOVED_IN_PART, why, fix, facts["source"])
    if deprecated and reaches(deprecated):
        why = f"{op} is deprecated since TensorRT {deprecated}: NVIDIA plans to remove it"
        return PluginSupport(op, DEPRECATED, why, fix, facts["source"])
    return None


def plugin_findings(node: Any, target: Target) -> list[Finding]:
    """The lint's finding for a node of a known plugin on ``target`` (error where its parser cannot import it)."""
    support = plugin_support(node.op_type, target)
    if support is None:
        return []
    severity = "error" if support.state == REMOVED else "warning"
    return [Finding(severity, "plugin-lifecycle", node_label(node), node.op_type, support.why, support.fix,
                    source=support.source)]  # fmt: skip
