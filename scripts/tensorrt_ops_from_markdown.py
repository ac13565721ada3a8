"""Regenerate src/pt2trt/data/tensorrt_onnx_ops.json from onnx/onnx-tensorrt ``docs/operators.md`` files.

Usage (one ``VERSION=FILE`` per table; the provenance of each table goes in ``--source VERSION=TEXT``)::

    python scripts/tensorrt_ops_from_markdown.py 8.6=ops_8.6.md 10.15=ops_10.15.md \
        --source "8.6=branch 8.6-GA, commit ee0b139..." -o src/pt2trt/data/tensorrt_onnx_ops.json

Each row keeps the documented support flag, types and restriction text; restrictions that can be checked on the
ONNX graph are also turned into machine-readable ``checks`` (see pt2trt.backends.tensorrt.lint.rules).
Restrictions that match no pattern stay as text only. ``targets`` (which table each --target uses) is kept from
the existing JSON.

Resize's checks come from the parser's importer source instead (``IMPORTER_RULES``): operators.md lists only
``nearest`` and ``linear`` modes, but the importer maps ``cubic`` to ``kCUBIC`` in 8.6 and 10.x alike.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import onnx.defs

ROW = re.compile(r"^\|\s*([A-Za-z0-9]+)\s*\|\s*(Y|N)[^|]*(?:\|([^|]*))?(?:\|(.*))?$")
HEADER_RANGE = re.compile(r"opset (\d+) to opset (\d+)", re.I)
HEADER_MAX = re.compile(r"up to Opset (\d+)", re.I)


# Read from onnx/onnx-tensorrt: the Resize importer (DEFINE_BUILTIN_OP_IMPORTER(Resize)) of each version.
_RESIZE_86 = (
    "onnx/onnx-tensorrt builtin_op_importers.cpp, branch 8.6-GA, commit ee0b139bc68567a89618c1d84dcd461cc144aad4"
)
_RESIZE_10 = (
    "onnx/onnx-tensorrt onnxOpImporters.cpp, branch 10.1-GA, commit 96e781103cfc4adf4a6bb557e94bac8e693f6f4c "
    "(the same Resize code at commit dd0a3a9f8794ae4f0316ed07ea68cda9b944bb3c, main with the 10.1x importers)"
)
_TRANSFORMS = ["half_pixel", "pytorch_half_pixel", "tf_half_pixel_for_nn", "asymmetric", "align_corners"]


def _resize_checks(source: str, tf_nn_floor_only: bool) -> list[dict]:
    """What the Resize importer rejects (errors) or silently ignores (warnings), each check citing ``source``."""
    checks: list[dict] = [
        # any other transformation mode: ASSERT(... kUNSUPPORTED_NODE)
        {"kind": "attr_in", "attr": "coordinate_transformation_mode", "values": _TRANSFORMS},
        # "cubic" -> kCUBIC, "linear" -> kLINEAR, else nearest
        {"kind": "attr_in", "attr": "mode", "values": ["nearest", "linear", "cubic"]},
        {"kind": "attr_in", "attr": "nearest_mode", "values": ["floor", "ceil", "round_prefer_floor",
                                                            "round_prefer_ceil"]},
        # canUseNDResize(scales, 3) for linear, (scales, 2) for cubic: only the innermost dims may be scaled
        {"kind": "resize_scaled_dims", "limits": {"linear": 3, "cubic": 2}},
        # never read by the importer: the engine resizes without them
        {"kind": "attr_ignored", "attr": "antialias", "default": 0, "severity": "warning",
         "effect": "TensorRT resizes without antialiasing"},
        {"kind": "attr_ignored", "attr": "keep_aspect_ratio_policy", "default": "stretch", "severity": "warning",
         "effect": "TensorRT stretches to the given sizes"},
    ]  # fmt: skip
    if tf_nn_floor_only:  # 8.6: ASSERT(transformationMode != "tf_half_pixel_for_nn" || nearest_mode == ...)
        checks.append(
            {"kind": "attr_requires", "attr": "coordinate_transformation_mode", "value": "tf_half_pixel_for_nn",
             "requires": "nearest_mode", "values": ["round_prefer_floor"], "default": "round_prefer_floor"}
        )  # fmt: skip
    return [{**c, "source": source} for c in checks]


IMPORTER_RULES = {
    "8.6": {"Resize": _resize_checks(_RESIZE_86, tf_nn_floor_only=True)},
    "10": {"Resize": _resize_checks(_RESIZE_10, tf_nn_floor_only=False)},
}


def importer_checks(version: str, op: str) -> list[dict] | None:
    """The checks read from the importer source for ``op`` in table ``version`` (None: use operators.md's)."""
    return IMPORTER_RULES.get(version if version in IMPORTER_RULES else version.split(".")[0], {}).get(op)


def _schema_inputs(op: str) -> list[str]:
    try:
        return [i.name for i in onnx.defs.get_schema(op).inputs]
    except onnx.defs.SchemaError:
        return []


def checks_for(op: str, text: str) -> list[dict]:
    """Machine-checkable rules from one restriction text."""
    checks: list[dict] = []
    inputs = _schema_inputs(op)
    for names, kind in (
        (r"((?:`\w+`(?:,? (?:and )?)?)+) must be (?:an initializer|initializers|a constant tensor)", True),
        (r"((?:`\w+`(?:,? (?:and )?)?)+) (?:input )?must be (?:a build-time constant|resolvable to a constant)", False),
    ):
        for match in re.finditer(names, text):
            found = [n for n in re.findall(r"`(\w+)`", match.group(1)) if n in inputs]
            if found:
                checks.append({"kind": "constant_inputs", "inputs": found, "strict": kind})
    if re.search(r"2D or 3D pooling only", text, re.I):
        checks.append({"kind": "spatial_rank", "allowed": [2, 3]})
    if "`dilations` must be empty or all ones" in text:
        checks.append({"kind": "unit_dilations"})
    if "`Indices` output tensor unsupported" in text or re.search(r"Only the first output `\w+` is supported", text):
        checks.append({"kind": "first_output_only"})
    for name in re.findall(r"`(\w+_zero_point)` must be (?:zero|0)", text):
        checks.append({"kind": "zero_input", "input": name})
    for attr, label in (
        ("coordinate_transformation_mode", "transformation modes"),
        ("mode", "resize modes"),
        ("nearest_mode", "nearest modes"),
        ("keep_aspect_ratio_policy", "aspect ratio policy"),
    ):
        match = re.search(rf"Supported (?:resize )?{label}: ([^<]*?)\.?(?:<br|$)", text)
        if match:
            checks.append({"kind": "attr_in", "attr": attr, "values": re.findall(r"`(\w+)`", match.group(1))})
    if "Antialiasing is not supported" in text:
        checks.append({"kind": "attr_in", "attr": "antialias", "values": [0]})
    for attr, value in re.findall(r"`(\w+)`(?: attribute)? must be (-?\d+)\b", text):
        if attr not in inputs:
            checks.append({"kind": "attr_in", "attr": attr, "values": [int(value)]})
    if re.search(r"`reduction` (?:other than `none` )?is not supported", text):
        checks.append({"kind": "attr_in", "attr": "reduction", "values": ["none"]})
    match = re.search(r"`(\w+)` input must be less than (\d+)", text)
    if match:
        checks.append({"kind": "constant_below", "input": match.group(1), "limit": int(match.group(2))})
    match = re.search(r"((?:`\w+`,? (?:and )?)+)attributes are unsupported", text)
    if match:
        checks.append({"kind": "attrs_absent", "attrs": re.findall(r"`(\w+)`", match.group(1))})
    if "Ellipsis" in text and op == "Einsum":
        checks.append({"kind": "einsum_no_ellipsis"})
    if "`seed` value is ignored" in text:
        checks.append({"kind": "attr_ignored", "attr": "seed"})
    if re.search(r"Input must be 4D", text):
        checks.append({"kind": "input_rank", "input": 0, "rank": 4})
    return checks


def parse(path: Path, version: str = "") -> dict:
    text = path.read_text()
    header = next((line for line in text.splitlines() if "supports operators" in line), "")
    rng, top = HEADER_RANGE.search(header), HEADER_MAX.search(header)
    ops: dict[str, dict] = {}
    for line in text.splitlines():
        match = ROW.match(line.strip())
        if not match or match.group(1) == "Operator":
            continue
        op, flag, types, restriction = match.groups()
        restriction = re.sub(r"\s+", " ", (restriction or "").strip(" |")).strip()
        entry: dict = {
            "supported": flag == "Y",
            "types": [t.strip() for t in (types or "").split(",") if t.strip()] if flag == "Y" else [],
        }
        if restriction:
            entry["restrictions"] = restriction
            checks = checks_for(op, restriction) if flag == "Y" else []
            if flag == "Y" and importer_checks(version, op) is not None:
                checks = importer_checks(version, op) or []
            if checks:
                entry["checks"] = checks
        ops[op] = entry
    return {
        "header": re.sub(r"\s*Latest information.*", "", header).strip(),
        "opset_min": int(rng.group(1)) if rng else None,
        "opset_max": int(rng.group(2)) if rng else int(top.group(1)) if top else None,
        "ops": dict(sorted(ops.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="+", metavar="VERSION=FILE")
    parser.add_argument("--source", action="append", default=[], metavar="VERSION=TEXT")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    old = json.loads(args.output.read_text()) if args.output.exists() else {}
    sources = dict(s.split("=", 1) for s in args.source)
    tables = {}
    for item in args.tables:
        version, _, file = item.partition("=")
        table = parse(Path(file), version)
        previous = old.get("tables", {}).get(version, {})
        tables[version] = {"source": sources.get(version, previous.get("source", "")), **table}
    data = {
        "about": old.get("about", ""),
        "targets": old.get("targets", {}),
        "tables": tables,
    }
    args.output.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
