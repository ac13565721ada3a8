"""The bad-input corpus: every command, fed what a user gets wrong, answers with one line that says what to do.

Each case runs ``pt2trt`` in this process (``pt2trt.cli.main.run``, as the entry point does) and asserts: exactly
one line on stderr and nothing else (no traceback), the exit code (2 for usage errors, 1 otherwise), a hint after the
problem (a second sentence), and no file left behind anywhere under the test folder. One case per command also runs
in a fresh interpreter, where what native libraries write to the process's stderr (ONNX Runtime's or FFmpeg's log
lines) is seen too.
All inputs are made once per module from one tiny ``onnx.helper`` classifier, so the whole corpus needs no torch.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from tests.conftest import CliResult, run_cli, run_cli_process

PREFIX = "pt2trt: error: "


def tiny_classifier(*, unused_initializer: bool = False) -> onnx.ModelProto:
    """input[1,3,16,16] -> GlobalAveragePool -> Flatten -> Gemm -> output[1,10] logits.

    ``unused_initializer`` adds a weight no node reads: ONNX Runtime warns about it ("Removing initializer") on its
    own log unless pt2trt silences it."""
    rng = np.random.default_rng(0)
    initializers = [
        numpy_helper.from_array(rng.standard_normal((10, 3)).astype(np.float32), "fc.weight"),
        numpy_helper.from_array(np.zeros(10, np.float32), "fc.bias"),
    ]
    if unused_initializer:
        initializers.append(numpy_helper.from_array(np.zeros(4, np.float32), "unused"))
    nodes = [
        helper.make_node("GlobalAveragePool", ["input"], ["pool"], name="pool"),
        helper.make_node("Flatten", ["pool"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["output"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_classifier",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="pt2trt-tests")
    model.ir_version = 8
    return model


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``in/``: the inputs (good and bad); ``out/``: the working directory each case runs in."""
    base = tmp_path_factory.mktemp("bad_inputs")
    inp = base / "in"
    inp.mkdir()
    (base / "out").mkdir()
    model = tiny_classifier()
    onnx.save(model, inp / "model.onnx")
    onnx.save(tiny_classifier(unused_initializer=True), inp / "warn.onnx")
    data = (inp / "model.onnx").read_bytes()
    (inp / "trunc.onnx").write_bytes(data[: len(data) // 2])
    (inp / "text.onnx").write_text("this is not an ONNX model\n")
    ir14 = tiny_classifier()
    ir14.ir_version = 14
    onnx.save(ir14, inp / "ir14.onnx")
    (inp / "dir.onnx").mkdir()
    os.mkfifo(inp / "pipe.onnx")
    onnx.save(model, inp / "existing.onnx")
    (inp / "existing.svg").write_text("<svg/>")
    (inp / "existing.json").write_text("{}")
    (inp / "existing.xml").write_text("<net/>")
    Image.new("RGB", (24, 20), (120, 60, 30)).save(inp / "img.png")
    (inp / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (inp / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200)
    (inp / "labels3.txt").write_text("cat\ndog\nbird\n")
    (inp / "bad.yaml").write_text("edits: [rename_input: {old: input\n")
    (inp / "unknown.yaml").write_text("- frobnicate: {x: 1}\n")
    (inp / "pre.yaml").write_text("resize: sideways\n")
    (inp / "bad-pre.yaml").write_text("resize: [256, 256\n")
    (inp / "tag.yaml").write_text('- insert_node: !!python/object/apply:os.system ["echo hi"]\n')
    zoo = "models:\n  - name: a\n    model: pt2trt.models:SeedNet\n    input: input:1x3x28x28\n"
    (inp / "zoo.yaml").write_text(zoo)
    (inp / "zoo-unknown.yaml").write_text(zoo + "    dynamic_bacth: true\n")
    (inp / "zoo-twice.yaml").write_text(zoo + zoo.removeprefix("models:\n"))
    (inp / "model.engine").write_bytes(b"not really an engine")
    (inp / "model.engine.json").write_text(json.dumps({"format": "pt2trt-engine-metadata/1", "flags": "fp16"}))
    eval_data(inp)
    return base


def eval_data(inp: Path) -> None:
    """Labelled data for ``eval`` with one thing wrong each (the pictures are 24x20)."""
    picture = Image.new("RGB", (24, 20), (120, 60, 30))
    for name in ("zebras", "empty-image"):
        (inp / name / "zebra").mkdir(parents=True)
        picture.save(inp / name / "zebra" / "a.png")
    (inp / "empty-image" / "zebra" / "b.png").write_bytes(b"")
    (inp / "loose" / "cat").mkdir(parents=True)
    picture.save(inp / "loose" / "cat" / "a.png")
    picture.save(inp / "loose" / "stray.png")
    image = {"id": 1, "file_name": "img.png", "width": 24, "height": 20}
    box = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 10, 10]}
    cats = [{"id": 1, "name": "cat"}]
    for name, changed in (("coco-unknown", {"category_id": 7}), ("coco-outside", {"bbox": [20, 2, 30, 10]})):
        data = {"images": [image], "annotations": [{**box, **changed}], "categories": cats}
        (inp / f"{name}.json").write_text(json.dumps(data))
    (inp / "yolo" / "images").mkdir(parents=True)
    (inp / "yolo" / "labels").mkdir()
    picture.save(inp / "yolo" / "images" / "a.png")
    (inp / "seg" / "images").mkdir(parents=True)
    (inp / "seg" / "masks").mkdir()
    picture.save(inp / "seg" / "images" / "a.png")
    Image.new("L", (20, 24)).save(inp / "seg" / "masks" / "a.png")


_BUILD = ["build", "{in}/model.onnx", "-o", "m.engine", "--dry-run", "--trt-version", "10"]

# (id, args, exit code, fragment of the error line). "{in}" is the inputs folder; outputs are relative to out/.
CASES: list[tuple[str, list[str], int, str]] = [
    # files that are not (complete) ONNX models
    ("check-missing", ["check", "{in}/missing.onnx"], 1, "not found"),
    ("check-text", ["check", "{in}/text.onnx"], 1, "not"),
    ("check-truncated", ["check", "{in}/trunc.onnx"], 1, "trunc.onnx"),
    ("inspect-directory", ["inspect", "{in}/dir.onnx"], 1, "is a directory"),
    ("inspect-fifo", ["inspect", "{in}/pipe.onnx"], 1, "not a regular file"),
    ("inspect-json-truncated", ["inspect", "{in}/trunc.onnx", "--json"], 1, "trunc.onnx"),
    ("predict-ir14", ["predict", "{in}/ir14.onnx", "{in}/img.png", "--task", "classify"], 1, "IR version 14"),
    ("simplify-ir14", ["simplify", "{in}/ir14.onnx", "-o", "s.onnx"], 1, "IR version 14"),
    # bad enums and numbers
    ("check-target", ["check", "{in}/model.onnx", "--target", "trt-99"], 2, "--target"),
    ("inspect-precision", ["inspect", "{in}/model.onnx", "--precision", "fp7"], 2, "--precision"),
    ("predict-top-k", ["predict", "{in}/model.onnx", "{in}/img.png", "--task", "classify", "--top-k", "-3"], 2, "-3"),
    ("predict-workers", ["predict", "{in}/model.onnx", "{in}/img.png", "--task", "classify", "--workers", "-1"], 2, ""),
    ("predict-batch", ["predict", "{in}/model.onnx", "{in}/img.png", "--task", "classify", "--batch", "0"], 2, ""),
    ("predict-task", ["predict", "{in}/model.onnx", "{in}/img.png", "--task", "translate"], 2, "--task"),
    ("predict-size", ["predict", "{in}/model.onnx", "{in}/img.png", "--task", "classify", "--size", "0x-4"], 2, ""),
    ("predict-mean", ["predict", "{in}/model.onnx", "{in}/img.png", "--task", "classify", "--mean", "1,2"], 2, ""),
    ("predict-conf", ["predict", "{in}/model.onnx", "{in}/img.png", "--task", "detect", "--conf", "7"], 2, "--conf"),
    ("simplify-engine", ["simplify", "{in}/model.onnx", "--engine", "magic"], 2, "--engine"),
    ("edit-batch-zero", ["edit", "{in}/model.onnx", "--batch", "0", "-o", "e.onnx"], 2, "at least 1"),
    ("view-max-boxes", ["view", "{in}/model.onnx", "--svg", "g.svg", "--max-boxes", "1"], 2, "--max-boxes"),
    ("triton-instances", ["triton", "{in}/model.onnx", "-o", "repo", "--instances", "0"], 2, "--instances"),
    ("triton-kind", ["triton", "{in}/model.onnx", "-o", "repo", "--kind", "tpu"], 2, "--kind"),
    (
        "triton-top-k",
        ["triton", "{in}/model.onnx", "-o", "repo", "--ensemble", "--task", "classify", "--top-k", "-3"],
        2,
        "",
    ),
    ("quantize-precision", ["quantize", "{in}/model.onnx", "--precision", "int4"], 2, "--precision"),
    ("bench-backend", ["bench", "{in}/model.onnx", "--backend", "cuda9"], 2, "cuda9"),
    ("bench-iterations", ["bench", "{in}/model.onnx", "--iterations", "0"], 2, "--iterations"),
    ("bench-missing", ["bench", "{in}/missing.onnx", "--backend", "onnxruntime"], 1, "not found"),
    ("convert-no-input", ["convert", "pt2trt.models:SeedNet", "-o", "c"], 2, "--input"),
    (
        "convert-precision",
        ["convert", "pt2trt.models:SeedNet", "-i", "1x3x28x28", "-o", "c", "--precision", "int4"],
        2,
        "",
    ),
    (
        "convert-output-file",
        ["convert", "pt2trt.models:SeedNet", "-i", "1x3x28x28", "-o", "{in}/model.onnx"],
        2,
        "file",
    ),
    (
        "compare-agreement",
        ["compare", "{in}/model.onnx", "{in}/model.onnx", "{in}/img.png", "--task", "classify", "--min-agreement", "2"],
        2,
        "--min-agreement",
    ),
    (
        "build-workspace",
        ["build", "{in}/model.onnx", "-o", "m.engine", "--dry-run", "--trt-version", "10", "--workspace", "0"],
        2,
        "--workspace",
    ),
    ("sweep-workers", ["sweep", "{in}/zoo.yaml", "-o", "z", "--workers", "0"], 2, "--workers"),
    ("sweep-resume-force", ["sweep", "{in}/zoo.yaml", "-o", "z", "--resume", "--force"], 2, "contradict"),
    ("unknown-command", ["frobnicate"], 2, "frobnicate"),
    # bad shapes and input specs
    ("simplify-shapes-commas", ["simplify", "{in}/model.onnx", "-i", "input:1x3x28x28,,"], 2, ""),
    (
        "build-shapes-commas",
        [
            "build",
            "{in}/model.onnx",
            "-o",
            "m.engine",
            "--dry-run",
            "--trt-version",
            "10",
            "--shapes",
            "input:1x3x28x28,,",
        ],
        2,
        "--shapes",
    ),
    (
        "build-shapes-unknown-input",
        [
            "build",
            "{in}/model.onnx",
            "-o",
            "m.engine",
            "--dry-run",
            "--trt-version",
            "10",
            "--shapes",
            "image:1x3x16x16",
        ],
        2,
        "image",
    ),
    # ONNX Runtime's error keeps its second line (the failing index and the expected size)
    (
        "simplify-wrong-channels",
        ["simplify", "{in}/model.onnx", "-i", "input:1x4x16x16", "-o", "s.onnx"],
        1,
        "index: 1 Got: 4 Expected: 3",
    ),
    ("edit-dynamic-axis", ["edit", "{in}/model.onnx", "--dynamic", "input:x=batch", "-o", "e.onnx"], 2, "--dynamic"),
    ("export-input-spec", ["export", "{in}/missing.py:Net", "-i", "x:1x3xAx4"], 2, ""),
    # usage errors of export and build whose hint says what to type (ACTIONABLE below)
    ("export-zero-dim", ["export", "pt2trt.models:SeedNet", "-i", "x:0x3x28x28"], 2, "e.g. x:1x3x28x28"),
    ("export-zero-shape", ["export", "pt2trt.models:SeedNet", "-i", "x:0"], 2, "e.g. x:1"),
    ("export-empty-shape", ["export", "pt2trt.models:SeedNet", "-i", "x:"], 2, "NAME:SHAPE"),
    (
        "export-dynamic-unknown-input",
        ["export", "pt2trt.models:SeedNet", "-i", "x:1x3x28x28", "--dynamic", "y:0"],
        2,
        "--dynamic x:0",
    ),
    ("build-zero-dim", [*_BUILD, "--shapes", "input:0x3x16x16"], 2, "e.g. input:1x3x16x16"),
    ("build-unknown-input", [*_BUILD, "--shapes", "nope:1x3x16x16"], 2, "--shapes input:1x3x16x16"),
    ("build-static-dim", [*_BUILD, "--shapes", "input:2x3x16x16"], 2, "Keep dim 0 at 1 (input:1x3x16x16)"),
    ("build-optimization-level", [*_BUILD, "--builder-optimization-level", "9"], 2, "from 0 to 5"),
    # outputs: existing without --force, a directory, a file as folder, a parent that is a file
    ("simplify-exists", ["simplify", "{in}/model.onnx", "-o", "{in}/existing.onnx"], 1, "already exists"),
    ("simplify-parent-file", ["simplify", "{in}/model.onnx", "-o", "{in}/model.onnx/x.onnx"], 1, "not a directory"),
    ("edit-output-directory", ["edit", "{in}/model.onnx", "--batch", "2", "-o", "{in}/dir.onnx"], 2, "dir.onnx"),
    ("view-svg-exists", ["view", "{in}/model.onnx", "--svg", "{in}/existing.svg"], 1, "already exists"),
    (
        "predict-output-exists",
        ["predict", "{in}/model.onnx", "{in}/img.png", "--task", "classify", "-o", "{in}/existing.json"],
        1,
        "already exists",
    ),
    (
        "predict-save-is-file",
        ["predict", "{in}/model.onnx", "{in}/img.png", "--task", "classify", "--save", "{in}/img.png"],
        2,
        "img.png",
    ),
    ("triton-repo-is-file", ["triton", "{in}/model.onnx", "-o", "{in}/img.png"], 2, "img.png"),
    ("openvino-exists", ["export-openvino", "{in}/model.onnx", "-o", "{in}/existing.xml"], 1, "already exists"),
    # other bad inputs
    ("predict-broken-image", ["predict", "{in}/model.onnx", "{in}/broken.png", "--task", "classify"], 1, "broken"),
    ("predict-broken-video", ["predict", "{in}/model.onnx", "{in}/broken.mp4", "--task", "classify"], 1, "video"),
    ("predict-no-match", ["predict", "{in}/model.onnx", "{in}/nothing/*.png", "--task", "classify"], 1, "no images"),
    ("predict-warning-model", ["predict", "{in}/warn.onnx", "{in}/broken.png", "--task", "classify"], 1, "broken"),
    (
        "predict-bad-preprocess",
        ["predict", "{in}/model.onnx", "{in}/img.png", "--task", "classify", "--preprocess", "{in}/pre.yaml"],
        2,
        "resize",
    ),
    (
        "compare-text-model",
        ["compare", "{in}/model.onnx", "{in}/text.onnx", "{in}/img.png", "--task", "classify"],
        1,
        "text.onnx",
    ),
    ("edit-bad-yaml", ["edit", "{in}/model.onnx", "--recipe", "{in}/bad.yaml", "-o", "e.onnx"], 1, "line 2, column 1"),
    ("edit-tag-yaml", ["edit", "{in}/model.onnx", "--recipe", "{in}/tag.yaml", "-o", "e.onnx"], 1, "!!python/object"),
    # PyYAML's errors (several lines, a caret under the quoted text) in one line that says where
    (
        "edit-insert-node-yaml",
        ["edit", "{in}/model.onnx", "--insert-node", "{op: Relu, after: [x", "-o", "e.onnx"],
        2,
        "line 1, column 21",
    ),
    (
        "edit-insert-node-python-tag",
        ["edit", "{in}/model.onnx", "--insert-node", '!!python/object/apply:os.system ["echo hi"]', "-o", "e.onnx"],
        2,
        "!!python/object/apply:os.system",
    ),
    (
        "predict-preprocess-yaml",
        ["predict", "{in}/model.onnx", "{in}/img.png", "--task", "classify", "--preprocess", "{in}/bad-pre.yaml"],
        1,
        "line 2, column 1",
    ),
    (
        "edit-unknown-edit",
        ["edit", "{in}/model.onnx", "--recipe", "{in}/unknown.yaml", "-o", "e.onnx"],
        1,
        "frobnicate",
    ),
    ("edit-rename-missing", ["edit", "{in}/model.onnx", "--rename-input", "nothere=x", "-o", "e.onnx"], 1, "nothere"),
    ("edit-nothing", ["edit", "{in}/model.onnx"], 2, "no edit"),
    ("build-no-tensorrt", ["build", "{in}/model.onnx", "-o", "m.engine"], 1, "TensorRT"),
    ("inspect-engine-bad-sidecar", ["inspect", "{in}/model.engine"], 1, "not an object"),
    (
        "predict-engine-bad-sidecar",
        ["predict", "{in}/model.engine", "{in}/img.png", "--task", "classify"],
        1,
        "not an object",
    ),
    ("view-svg-text", ["view", "{in}/text.onnx", "--svg", "g.svg"], 1, "text.onnx"),
    ("openvino-text", ["export-openvino", "{in}/text.onnx", "-o", "ov"], 1, "text.onnx"),
    ("quantize-missing", ["quantize", "{in}/missing.onnx", "--precision", "fp16"], 1, "not found"),
    ("debug-text", ["debug", "layers", "{in}/text.onnx", "{in}/model.onnx"], 1, "text.onnx"),
    ("verify-missing-model", ["verify", "{in}/missing.py:Net", "{in}/model.onnx"], 1, "missing.py"),
    ("export-missing-model", ["export", "{in}/missing.py:Net", "-i", "x:1x3x8x8"], 1, "missing.py"),
    # eval: bad labelled data (one line each, before any model runs) and bad settings
    ("eval-missing-data", ["eval", "{in}/model.onnx", "--data", "{in}/nothing", "--task", "classify"], 1, "not found"),
    (
        "eval-empty-image",
        ["eval", "{in}/model.onnx", "--data", "{in}/empty-image", "--task", "classify"],
        1,
        "is empty (0 bytes)",
    ),
    (
        "eval-missing-class-label",
        ["eval", "{in}/model.onnx", "--data", "{in}/loose", "--task", "classify"],
        1,
        "outside any class folder",
    ),
    (
        "eval-unknown-class-folder",
        ["eval", "{in}/model.onnx", "--data", "{in}/zebras", "--task", "classify", "--labels", "{in}/labels3.txt"],
        1,
        "unknown class",
    ),
    (
        "eval-unknown-category",
        ["eval", "{in}/model.onnx", "--data", "{in}/coco-unknown.json", "--task", "detect"],
        1,
        "unknown class",
    ),
    (
        "eval-box-outside",
        ["eval", "{in}/model.onnx", "--data", "{in}/coco-outside.json", "--task", "detect"],
        1,
        "outside the image",
    ),
    ("eval-missing-label-file", ["eval", "{in}/model.onnx", "--data", "{in}/yolo", "--task", "detect"], 1, "no label"),
    ("eval-mask-size", ["eval", "{in}/model.onnx", "--data", "{in}/seg", "--task", "segment"], 1, "20x24"),
    (
        "eval-bootstrap",
        ["eval", "{in}/model.onnx", "--data", "{in}/zebras", "--task", "classify", "--bootstrap", "-5"],
        2,
        "--bootstrap",
    ),
    ("eval-limit", ["eval", "{in}/model.onnx", "--data", "{in}/zebras", "--task", "classify", "--limit", "0"], 2, ""),
    # sweep: the manifest's bad inputs name FILE:LINE
    ("sweep-missing", ["sweep", "{in}/missing.yaml", "-o", "z"], 1, "not found"),
    ("sweep-unknown-key", ["sweep", "{in}/zoo-unknown.yaml", "-o", "z"], 2, "zoo-unknown.yaml:5: unknown key"),
    ("sweep-duplicate-name", ["sweep", "{in}/zoo-twice.yaml", "-o", "z"], 2, "zoo-twice.yaml:5: name 'a'"),
    ("sweep-bad-yaml", ["sweep", "{in}/bad.yaml", "-o", "z"], 2, "bad.yaml:2: not valid YAML"),
    ("sweep-baseline", ["sweep", "{in}/zoo.yaml", "-o", "z", "--baseline", "{in}"], 1, "no results.json"),
    ("sweep-ray-address", ["sweep", "{in}/zoo.yaml", "-o", "z", "--ray", "127.0.0.1:1"], 1, "no Ray cluster"),
]


def listing(base: Path) -> set[str]:
    """Every file and folder under ``base`` (hidden ones too): a half-written output or temp file shows here."""
    return {str(p.relative_to(base)) for p in base.rglob("*")}


def error_line(result: CliResult) -> str:
    """The single line on stderr (asserting there is exactly one and no traceback)."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{result.stderr}"
    return lines[0]


def has_hint(line: str) -> bool:
    """The line says what is wrong, then (in a second sentence) what to do: ``problem. Hint`` or ``problem: hint``
    is not enough; a sentence must follow the problem's full stop (click's errors end with a pointer to --help)."""
    text = line.removeprefix(PREFIX).removeprefix("warning: ")
    return re.search(r"\S[.?!)'\"]\s+\S.{3,}$", text) is not None


def run_case(root: Path, args: list[str]) -> CliResult:
    return run_cli(*[a.replace("{in}", str(root / "in")) for a in args], cwd=root / "out", timeout=120)


@pytest.mark.parametrize(("args", "code", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(root: Path, args: list[str], code: int, fragment: str) -> None:
    before = listing(root)
    result = run_case(root, args)
    line = error_line(result)
    assert line.startswith(PREFIX), line
    assert result.returncode == code, f"exit {result.returncode}, expected {code}: {line}"
    assert fragment in line, line
    assert has_hint(line), f"no hint after the problem: {line}"
    assert listing(root) == before, f"left behind: {listing(root) - before}"


#: the first case of each command, run again as a process: native log lines on fd 2 would show there
FIRST_OF_EACH = list({c[1][0]: c for c in reversed(CASES)}.values())


@pytest.mark.parametrize(
    ("args", "code", "fragment"), [c[1:] for c in FIRST_OF_EACH], ids=[c[0] for c in FIRST_OF_EACH]
)
def test_bad_input_in_a_fresh_process(root: Path, args: list[str], code: int, fragment: str) -> None:
    result = run_cli_process(*[a.replace("{in}", str(root / "in")) for a in args], cwd=root / "out", timeout=120)
    line = error_line(result)
    assert line.startswith(PREFIX) and fragment in line and result.returncode == code, result.stderr


#: usage errors whose hint must be an instruction with something to type: a flag or an example, not a restatement
_ACTIONABLE_IDS = {
    "export-zero-dim", "export-zero-shape", "export-empty-shape", "export-dynamic-unknown-input", "build-zero-dim",
    "build-unknown-input", "build-static-dim", "build-optimization-level",
}  # fmt: skip
ACTIONABLE = [c for c in CASES if c[0] in _ACTIONABLE_IDS]
_VERBS = ("Give", "Write", "Name", "Keep", "Pass", "Use", "Choose", "Check", "Run", "Install", "Set", "Remove")


@pytest.mark.parametrize(("args", "code", "fragment"), [c[1:] for c in ACTIONABLE], ids=[c[0] for c in ACTIONABLE])
def test_a_usage_hint_says_what_to_type(root: Path, args: list[str], code: int, fragment: str) -> None:
    result = run_case(root, args)
    line = error_line(result)
    assert result.returncode == code == 2, line
    hint = line.removeprefix(PREFIX).partition(". ")[2]
    assert hint.startswith(_VERBS), f"the hint is no instruction: {hint!r}"
    assert "--" in hint or "e.g." in hint or "(" in hint, f"nothing to type in the hint: {hint!r}"
    assert fragment in hint, line


def test_labels_with_the_wrong_count_warn(root: Path) -> None:
    """3 names for 10 classes: the answer is still given (exit 0), with one warning line that says what to check."""
    before = listing(root)
    result = run_case(
        root, ["predict", "{in}/warn.onnx", "{in}/img.png", "--task", "classify", "--labels", "{in}/labels3.txt"]
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["top"], result.stdout
    lines = result.stderr.splitlines()
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert len(warnings) == 1 and "3 classes" in warnings[0] and "10" in warnings[0], result.stderr
    assert has_hint(warnings[0]) or "; check" in warnings[0], warnings[0]
    # The rest is pt2trt's own closing line, no ONNX Runtime log ("Removing initializer 'unused'").
    others = [line for line in lines if line not in warnings]
    assert len(others) == 1 and others[0].startswith("predicted 1 image"), result.stderr
    assert listing(root) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders and reads mode-000 files")
@pytest.mark.parametrize("kind", ["unwritable-dir", "unreadable-file"])
def test_permissions(root: Path, kind: str) -> None:
    locked = root / "in" / "locked"
    locked.mkdir(exist_ok=True)
    if kind == "unwritable-dir":
        locked.chmod(0o555)
        args, fragment = ["simplify", "{in}/model.onnx", "-o", "{in}/locked/x.onnx"], "is not writable"
    else:
        (locked / "secret.onnx").write_bytes((root / "in" / "model.onnx").read_bytes())
        (locked / "secret.onnx").chmod(0)
        args, fragment = ["inspect", "{in}/locked/secret.onnx"], "not readable"
    try:
        before = listing(root)
        result = run_case(root, args)
        line = error_line(result)
        assert result.returncode == 1 and fragment in line and has_hint(line), line
        assert "permissions" in line, line  # the hint says what to check, not "keep the .onnx beside its .data"
        assert listing(root) == before
    finally:
        locked.chmod(0o755)
        for f in locked.iterdir():
            f.chmod(0o644)


def test_edit_batch_flag_is_an_edit(root: Path) -> None:
    """``edit --batch N`` is the batch edit (it was swallowed by the run-input options and reported "no edit")."""
    out = root / "out" / "b2.onnx"
    result = run_case(root, ["edit", "{in}/model.onnx", "--batch", "2", "-o", str(out)])
    try:
        assert result.returncode == 0, result.stderr
        assert onnx.load(out).graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2
    finally:
        out.unlink(missing_ok=True)


def test_the_corpus_covers_every_command() -> None:
    from pt2trt.cli.main import cli

    commands = set(cli.list_commands(None))  # type: ignore[arg-type]
    covered = {args[0] for _, args, _, _ in CASES}
    assert len(CASES) >= 40
    # A new command (bench, convert...) needs its bad inputs here too.
    assert commands <= covered, f"commands without bad-input cases: {commands - covered}"


def test_has_hint_helper() -> None:
    assert has_hint("pt2trt: error: foo.onnx already exists. Pass --force (force=True) to overwrite it")
    assert has_hint(
        "pt2trt: error: Invalid value for '--top-k': -3 is not in the range x>=1. Run 'pt2trt predict --help'"
    )
    assert not has_hint("pt2trt: error: ONNX file is not a file: pipe.onnx.")
    assert not has_hint("pt2trt: error: cannot write ro/x.onnx: directory ro is not writable.")


def test_onnxruntime_sessions_made_by_libraries_stay_quiet(root: Path) -> None:
    """Once pt2trt has run ONNX Runtime, sessions other libraries make (ORT's quantizer, simplifiers) do not log
    ORT's warnings ("Removing initializer 'unused'") on stderr either."""
    script = (
        "import onnxruntime as ort\n"
        "from pt2trt.backends.onnxruntime import OnnxRuntimeRunner\n"
        f"with OnnxRuntimeRunner({str(root / 'in' / 'model.onnx')!r}):\n"
        "    pass\n"
        f"ort.InferenceSession({str(root / 'in' / 'warn.onnx')!r})\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr


def test_unreadable_onnx_says_check_permissions(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A mode-000 file (simulated: root reads anything) is "not readable: check its permissions", whether the
    access check or onnx.load itself finds it; never the external-data advice."""
    from pt2trt.errors import Pt2trtError
    from pt2trt.onnx.load import load_onnx

    model = root / "in" / "model.onnx"
    monkeypatch.setattr(os, "access", lambda path, mode: not (mode & os.R_OK and Path(path) == model))
    with pytest.raises(Pt2trtError, match=r"is not readable\. Check its permissions"):
        load_onnx(model)
    monkeypatch.undo()

    def denied(path: str, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(Path, "read_bytes", denied)  # the one read of an ONNX file (pt2trt.onnx.load)
    with pytest.raises(Pt2trtError, match=r"permission denied\. The file is not readable: check its permissions") as e:
        load_onnx(model)
    assert ".onnx.data" not in str(e.value)
