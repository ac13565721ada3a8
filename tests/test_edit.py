"""pt2trt edit: every edit on tiny onnx.helper models (exact graphs, ONNX Runtime runs), recipes, CLI, real models."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import pt2trt
from pt2trt.editing.edit import EDITS, apply_edit, edit_model, parse_edit
from pt2trt.editing.surgery import IMAGENET_MEAN, IMAGENET_STD
from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.settings import ExportSettings
from tests.conftest import CliResult, assert_one_line_error
from tests.models import (
    batch_folding_model,
    hardswish_decomposed,
    pooled_reshape_model,
    raw_detections_model,
    tiny_conv_relu,
)

Cli = Callable[..., CliResult]
RNG = np.random.default_rng(0)


def run(model: onnx.ModelProto, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, feed)))


def ops(model: onnx.ModelProto) -> list[str]:
    return [n.op_type for n in model.graph.node]


def io(model: onnx.ModelProto) -> tuple[list[tuple[str, int, list]], list[tuple[str, int, list]]]:
    """(name, elem type, dims) of the inputs and of the outputs; dims as ints or dim_param strings."""

    def describe(v: onnx.ValueInfoProto) -> tuple[str, int, list]:
        t = v.type.tensor_type
        return v.name, t.elem_type, [d.dim_param or d.dim_value for d in t.shape.dim]

    return [describe(v) for v in model.graph.input], [describe(v) for v in model.graph.output]


def edited(model: onnx.ModelProto, *edits: tuple[str, object]) -> tuple[onnx.ModelProto, list]:
    return edit_model(model, [parse_edit(k, v) for k, v in edits])


def conv_out(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    """The Conv result of tiny_conv_relu, from ONNX Runtime with conv_out exposed."""
    exposed = apply_edit(model, "expose", "conv_out")
    return run(exposed, {"input": x})["conv_out"]


X = RNG.standard_normal((1, 3, 8, 8)).astype(np.float32)


# -- renames and shapes ----------------------------------------------------------------------------------------------


def test_rename_input_and_output() -> None:
    model, steps = edited(tiny_conv_relu(), ("rename_input", "input=images"), ("rename_output", {"output": "logits"}))
    assert io(model) == ([("images", 1, [1, 3, 8, 8])], [("logits", 1, [1, 4, 8, 8])])
    assert ops(model) == ["Conv", "Relu"]
    assert [s.equivalence.passed for s in steps] == [True, True]
    np.testing.assert_array_equal(run(model, {"images": X})["logits"], run(tiny_conv_relu(), {"input": X})["output"])


def test_rename_errors() -> None:
    with pytest.raises(Pt2trtError, match=r"no input 'nope'.*Inputs are: input"):
        apply_edit(tiny_conv_relu(), "rename_input", "nope=x")
    with pytest.raises(Pt2trtError, match=r"a tensor of that name exists"):
        apply_edit(tiny_conv_relu(), "rename_input", "input=conv_out")
    with pytest.raises(UsageError, match=r"Expected OLD=NEW"):
        parse_edit("rename_input", "input")


def test_dynamic_batch_rewrites_reshape_and_runs_any_batch() -> None:
    model, steps = edited(pooled_reshape_model(), ("dynamic_batch", True))
    assert io(model) == ([("x", 1, ["batch", 3, 4, 4])], [("y", 1, ["batch", 3])])
    reshape = next(n for n in model.graph.node if n.op_type == "Reshape")
    target = next(i for i in model.graph.initializer if i.name == reshape.input[1])
    assert onnx.numpy_helper.to_array(target).tolist() == [0, 3]
    assert steps[0].equivalence.passed and len(steps[0].equivalence.compared) == 2  # batch 1 and batch 2
    x = RNG.standard_normal((5, 3, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(run(model, {"x": x})["y"], x.mean(axis=(2, 3)), rtol=1e-5, atol=1e-7)


def test_dynamic_batch_refuses_a_graph_that_folds_the_batch() -> None:
    with pytest.raises(Pt2trtError, match=r"dynamic_batch changed the model's outputs.*hard-codes the batch size"):
        edited(batch_folding_model(), ("dynamic_batch", True))


def test_fix_batch_of_a_dynamic_model() -> None:
    dynamic, _ = edited(pooled_reshape_model(), ("dynamic_batch", True))
    model, steps = edited(dynamic, ("batch", 4))
    assert io(model) == ([("x", 1, [4, 3, 4, 4])], [("y", 1, [4, 3])])
    assert steps[0].equivalence.passed


def test_dynamic_axes() -> None:
    model, steps = edited(tiny_conv_relu(), ("dynamic", "input:2=h,3=w"))
    assert io(model)[0] == [("input", 1, [1, 3, "h", "w"])]
    dims = io(model)[1][0][2]
    assert dims[:2] == [1, 4] and all(isinstance(d, str) for d in dims[2:])  # re-inferred: symbolic H and W
    out = run(model, {"input": RNG.standard_normal((1, 3, 16, 12)).astype(np.float32)})["output"]
    assert out.shape == (1, 4, 16, 12) and steps[0].equivalence.passed


# -- uint8 NHWC input ------------------------------------------------------------------------------------------------


def test_uint8_nhwc_graph() -> None:
    model, steps = edited(tiny_conv_relu(), ("uint8_nhwc", True))
    assert io(model)[0] == [("input", onnx.TensorProto.UINT8, [1, 8, 8, 3])]
    assert ops(model) == ["Cast", "Transpose", "Mul", "Add", "Conv", "Relu"]
    transpose = model.graph.node[1]
    assert onnx.helper.get_attribute_value(transpose.attribute[0]) == [0, 3, 1, 2]
    mul, add = (onnx.numpy_helper.to_array(i) for i in model.graph.initializer if i.name in ("input_mul", "input_add"))
    std, mean = np.array(IMAGENET_STD).reshape(1, 3, 1, 1), np.array(IMAGENET_MEAN).reshape(1, 3, 1, 1)
    np.testing.assert_allclose(mul, 1 / (255 * std), rtol=1e-6)
    np.testing.assert_allclose(add, -mean / std, rtol=1e-6)
    assert steps[0].equivalence.passed and "uint8" in steps[0].equivalence.cases[0].label


def test_uint8_nhwc_matches_the_float_model_on_the_normalised_image() -> None:
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    model = apply_edit(tiny_conv_relu(), "uint8_nhwc", {"mean": list(mean), "std": list(std)})
    image = RNG.integers(0, 256, size=(1, 8, 8, 3), dtype=np.uint8)
    normalised = ((image.astype(np.float32) / 255 - np.array(mean, np.float32)) / np.array(std, np.float32)).transpose(
        0, 3, 1, 2
    )
    float_out = run(tiny_conv_relu(), {"input": np.ascontiguousarray(normalised)})["output"]
    np.testing.assert_allclose(run(model, {"input": image})["output"], float_out, rtol=1e-5, atol=1e-5)


def test_uint8_nhwc_errors() -> None:
    with pytest.raises(Pt2trtError, match=r"has 3 channels but 2 mean/std values"):
        apply_edit(tiny_conv_relu(), "uint8_nhwc", "input:mean=0.5,0.5:std=1,1")
    with pytest.raises(Pt2trtError, match=r"not N x C x H x W"):
        apply_edit(hardswish_decomposed(), "uint8_nhwc", True)
    with pytest.raises(UsageError, match=r"unknown uint8_nhwc option"):
        parse_edit("uint8_nhwc", {"means": [1]})


# -- nodes -----------------------------------------------------------------------------------------------------------


def test_remove_node_reconnects() -> None:
    model, steps = edited(tiny_conv_relu(), ("remove_node", "relu"))
    assert ops(model) == ["Conv"] and model.graph.node[0].output == ["output"]  # the output keeps its name
    np.testing.assert_array_equal(run(model, {"input": X})["output"], conv_out(tiny_conv_relu(), X))
    assert steps[0].equivalence is None and "runs in ONNX Runtime" in steps[0].note
    with pytest.raises(Pt2trtError, match=r"no node 'rellu'.*Did you mean 'relu'"):
        apply_edit(tiny_conv_relu(), "remove_node", "rellu")


def test_insert_node_with_new_initializers() -> None:
    spec = "{op: Clip, after: conv_out, name: clip6, inputs: [{value: 0.0}, {value: 6.0, name: six}]}"
    model, _ = edited(tiny_conv_relu(), ("insert_node", spec))
    assert ops(model) == ["Conv", "Clip", "Relu"]
    clip = model.graph.node[1]
    assert clip.name == "clip6" and clip.input[0] == "conv_out" and clip.input[2] == "six"
    assert model.graph.node[2].input == [clip.output[0]]
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    assert inits["six"] == np.float32(6.0)
    expected = np.clip(conv_out(tiny_conv_relu(), X), 0, 6)
    np.testing.assert_allclose(run(model, {"input": X})["output"], expected, rtol=1e-6)


def test_insert_custom_node_carries_value_info() -> None:
    spec = {"op": "Decode", "domain": "com.example", "after": "output", "dtype": "float32", "shape": [1, 4, 8, 8]}
    model, steps = edited(tiny_conv_relu(), ("insert_node", spec))
    assert ops(model) == ["Conv", "Relu", "Decode"] and model.graph.node[2].domain == "com.example"
    assert {o.domain: o.version for o in model.opset_import}["com.example"] == 1
    assert io(model)[1] == [("output", 1, [1, 4, 8, 8])]  # the new node took over the output name
    assert "ONNX Runtime cannot run" in steps[0].note


def test_replace_subgraph_by_one_op_verified() -> None:
    spec = {"from": ["x"], "to": ["y"], "op": "HardSwish", "equivalent": True}
    model, steps = edited(hardswish_decomposed(), ("replace_subgraph", spec))
    assert ops(model) == ["HardSwish"] and list(model.graph.node[0].input) == ["x"]
    assert list(model.graph.initializer) == []  # the decomposition's constants went with it
    assert steps[0].equivalence.passed


def test_replace_subgraph_with_incomplete_boundary() -> None:
    with pytest.raises(Pt2trtError, match=r"reaches tensor 'x', which is not among its inputs"):
        apply_edit(hardswish_decomposed(), "replace_subgraph", {"from": ["x3"], "to": ["y"], "op": "HardSwish"})


def test_replace_subgraph_refuses_a_changed_result_marked_equivalent() -> None:
    spec = {"from": ["x"], "to": ["y"], "op": "Relu", "equivalent": True}
    with pytest.raises(Pt2trtError, match=r"replace_subgraph changed the model's outputs"):
        edited(hardswish_decomposed(), ("replace_subgraph", spec))


def test_extract_subgraph_verified_on_intermediate_tensors() -> None:
    model, steps = edited(tiny_conv_relu(), ("extract", "conv_out:output"))
    assert ops(model) == ["Relu"] and list(model.graph.initializer) == []
    assert io(model) == ([("conv_out", 1, [1, 4, 8, 8])], [("output", 1, [1, 4, 8, 8])])
    assert steps[0].equivalence.passed
    with pytest.raises(Pt2trtError, match=r"no tensor 'conv'.*conv_out"):
        apply_edit(tiny_conv_relu(), "extract", "conv:output")


def test_expose_intermediate_tensor() -> None:
    model, steps = edited(tiny_conv_relu(), ("expose", "conv_out"))
    assert [o.name for o in model.graph.output] == ["output", "conv_out"]
    out = run(model, {"input": X})
    np.testing.assert_array_equal(out["output"], np.maximum(out["conv_out"], 0))
    assert steps[0].equivalence.passed


# -- post-processing -------------------------------------------------------------------------------------------------


def test_append_softmax_then_topk() -> None:
    model, steps = edited(hardswish_decomposed(), ("append", "softmax"), ("append", "topk:3"))
    assert ops(model)[-2:] == ["Softmax", "TopK"]
    assert [o.name for o in model.graph.output] == ["topk_scores", "topk_ids"]
    x = RNG.standard_normal((2, 8)).astype(np.float32)
    y = run(hardswish_decomposed(), {"x": x})["y"]
    probs = np.exp(y) / np.exp(y).sum(-1, keepdims=True)
    out = run(model, {"x": x})
    np.testing.assert_array_equal(out["topk_ids"], np.argsort(-probs, axis=-1)[:, :3])
    np.testing.assert_allclose(out["topk_scores"], np.sort(probs, axis=-1)[:, ::-1][:, :3], rtol=1e-5)
    assert all(s.equivalence.passed for s in steps)


def test_append_argmax_keep() -> None:
    model, steps = edited(hardswish_decomposed(), ("append", "argmax:keep=true"))
    assert [o.name for o in model.graph.output] == ["y", "class_id"]
    x = RNG.standard_normal((2, 8)).astype(np.float32)
    out = run(model, {"x": x})
    np.testing.assert_array_equal(out["class_id"], out["y"].argmax(-1))
    assert steps[0].equivalence.passed


def _nms_reference(boxes: np.ndarray, scores: np.ndarray, iou: float, threshold: float) -> list[tuple[int, int]]:
    """(class, box) pairs greedy NMS keeps, per class by descending score."""
    kept = []
    for c in range(scores.shape[1]):
        order = [i for i in np.argsort(-scores[:, c]) if scores[i, c] > threshold]
        chosen: list[int] = []
        for i in order:
            if all(_iou(boxes[i], boxes[j]) <= iou for j in chosen):
                chosen.append(i)
        kept += [(c, i) for i in chosen]
    return kept


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_append_onnx_nms() -> None:
    model, steps = edited(raw_detections_model(), ("append", "nms:iou=0.5,score=0.2,max=10"))
    assert sorted(ops(model)[2:]) == ["Gather", "Gather", "GatherND", "GatherND", "NonMaxSuppression", "Transpose"]
    names = ["detection_indices", "detection_boxes", "detection_scores", "detection_classes"]
    assert [o.name for o in model.graph.output] == names
    boxes = np.array(
        [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [21, 20, 31, 30], [50, 50, 60, 60], [0, 0, 5, 5]],
        np.float32,
    )
    scores = np.array([[0.9, 0.1], [0.8, 0.7], [0.3, 0.95], [0.6, 0.9], [0.1, 0.15], [0.5, 0.25]], np.float32)
    out = run(model, {"box_in": boxes[None], "score_in": scores[None]})
    got = [(int(c), int(b)) for _, c, b in out["detection_indices"]]
    assert got == _nms_reference(boxes, scores, 0.5, 0.2)
    np.testing.assert_array_equal(out["detection_boxes"], boxes[[b for _, b in got]])
    np.testing.assert_array_equal(out["detection_scores"], scores[[b for _, b in got], [c for c, _ in got]])
    np.testing.assert_array_equal(out["detection_classes"], [c for c, _ in got])
    assert "runs in ONNX Runtime" in steps[0].note


def test_append_efficient_nms_plugin_node() -> None:
    model, steps = edited(raw_detections_model(), ("append", {"op": "efficient_nms", "max": 20, "iou": 0.45}))
    node = model.graph.node[-1]
    assert (node.op_type, node.domain, list(node.input)) == ("EfficientNMS_TRT", "TRT", ["boxes", "scores"])
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert attrs["plugin_version"] == b"1" and attrs["max_output_boxes"] == 20 and attrs["background_class"] == -1
    assert attrs["iou_threshold"] == pytest.approx(0.45) and attrs["score_activation"] == 0
    assert io(model)[1] == [
        ("num_detections", onnx.TensorProto.INT32, [1, 1]),
        ("detection_boxes", onnx.TensorProto.FLOAT, [1, 20, 4]),
        ("detection_scores", onnx.TensorProto.FLOAT, [1, 20]),
        ("detection_classes", onnx.TensorProto.INT32, [1, 20]),
    ]
    assert {o.domain for o in model.opset_import} >= {"", "TRT"}
    assert "TRT ops that ONNX Runtime cannot run" in steps[0].note


def test_efficient_nms_says_where_it_is_deprecated(monkeypatch: pytest.MonkeyPatch) -> None:
    from pt2trt.backends.tensorrt import versions

    monkeypatch.setattr(versions, "installed_version", lambda: None)
    _, steps = edited(raw_detections_model(), ("append", "efficient_nms:target=11"))
    assert "deprecated since TensorRT 10.12" in steps[0].description and "--append nms" in steps[0].description
    _, steps = edited(raw_detections_model(), ("append", "efficient_nms:target=10.11"))
    assert "deprecated" not in steps[0].description  # before NVIDIA deprecated it
    _, steps = edited(raw_detections_model(), ("append", "efficient_nms"))  # no target, none installed: said aloud
    assert "no target given and no TensorRT installed: judged for the newest family" in steps[0].description
    monkeypatch.setattr(versions, "installed_version", lambda: "8.6.1")
    _, steps = edited(raw_detections_model(), ("append", "efficient_nms"))  # the installed TensorRT decides
    assert "deprecated" not in steps[0].description


def test_efficient_nms_refused_where_the_parser_cannot_import_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The refusal follows the facts table: EfficientNMS_TRT is deprecated, not removed, in every release so far, so
    the table is planted here with a removal in 11.0 (as NVIDIA did to EfficientNMS_ONNX_TRT in 10.16)."""
    from click.testing import CliRunner

    from pt2trt.backends.tensorrt.lint import plugins
    from pt2trt.cli.main import cli

    data = plugins.operator_data()
    planted = {**data, "plugins": {**data["plugins"], "EfficientNMS_TRT": {**data["plugins"]["EfficientNMS_TRT"],
                                                                            "removed": "11.0"}}}  # fmt: skip
    monkeypatch.setattr(plugins, "operator_data", lambda: planted)
    with pytest.raises(Pt2trtError, match=r"TensorRT 11\.x parser cannot import it") as caught:
        edited(raw_detections_model(), ("append", "efficient_nms:target=11"))
    assert "--append nms" in caught.value.hint and "INMSLayer" in caught.value.hint
    model, steps = edited(raw_detections_model(), ("append", "efficient_nms:target=10"))  # 10.x still parses it
    assert model.graph.node[-1].op_type == "EfficientNMS_TRT" and "deprecated since" in steps[0].description
    source, out = tmp_path / "det.onnx", tmp_path / "det-nms.onnx"
    onnx.save(raw_detections_model(), str(source))
    result = CliRunner().invoke(cli, ["edit", str(source), "-o", str(out), "--append", "efficient_nms:target=11"])
    assert result.exit_code == 1 and not out.exists()
    assert result.stderr.count("\n") == 1 and "pt2trt: error: cannot append EfficientNMS_TRT" in result.stderr


def test_efficient_nms_target_option_errors() -> None:
    with pytest.raises(UsageError, match="must be a TensorRT family or release, got 'ten'"):
        parse_edit("append", "efficient_nms:target=ten")
    with pytest.raises(UsageError, match="softmax takes no target option"):
        parse_edit("append", "softmax:target=10")


def test_append_errors() -> None:
    with pytest.raises(UsageError, match=r"unknown post-processing 'sofmax'"):
        parse_edit("append", "sofmax")
    with pytest.raises(Pt2trtError, match=r"needs boxes and scores"):
        apply_edit(tiny_conv_relu(), "append", "nms")
    with pytest.raises(Pt2trtError, match=r"only 8 values on axis -1, k=9"):
        apply_edit(hardswish_decomposed(), "append", "topk:9")


# -- model-level -----------------------------------------------------------------------------------------------------


def test_convert_opset() -> None:
    model, steps = edited(tiny_conv_relu(13), ("opset", 17))
    assert {o.domain: o.version for o in model.opset_import}[""] == 17
    assert steps[0].equivalence.passed
    with pytest.raises(Pt2trtError, match=r"already uses opset 17"):
        apply_edit(tiny_conv_relu(17), "opset", 17)
    with pytest.raises(Pt2trtError, match=r"cannot convert opset 17 to 13.*No Adapter"):
        apply_edit(tiny_conv_relu(17), "opset", 13)  # Relu 14 has no down-converter


def test_set_and_remove_metadata() -> None:
    base = tiny_conv_relu()
    base.metadata_props.add(key="old", value="1")
    model, steps = edited(base, ("set_metadata", ["author=me", "old="]))
    assert {p.key: p.value for p in model.metadata_props} == {"author": "me"}
    assert steps[0].note == "graph unchanged (nothing to run)"


def test_every_edit_is_tested_here() -> None:
    assert set(EDITS) == {
        "rename_input", "rename_output", "dynamic_batch", "dynamic", "batch", "uint8_nhwc", "remove_node",
        "insert_node", "replace_subgraph", "extract", "expose", "append", "opset", "set_metadata",
    }  # fmt: skip


# -- recipe and CLI --------------------------------------------------------------------------------------------------


RECIPE = """\
edits:
  - rename_input: {input: images}
  - uint8_nhwc: {input: images, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}
  - append: {op: softmax, axis: 1}
  - set_metadata: {author: deploy}
"""


def test_recipe_applies_in_order(tmp_path: Path) -> None:
    src, recipe = tmp_path / "tiny.onnx", tmp_path / "deploy.yaml"
    onnx.save(tiny_conv_relu(), str(src))
    recipe.write_text(RECIPE)
    result = pt2trt.edit(src, tmp_path / "out.onnx", recipe=recipe)
    assert [s.key for s in result.steps] == ["rename_input", "uint8_nhwc", "append", "set_metadata"]
    model = onnx.load(str(tmp_path / "out.onnx"))
    assert io(model)[0] == [("images", onnx.TensorProto.UINT8, [1, 8, 8, 3])]
    assert [o.name for o in model.graph.output] == ["probs"]
    image = RNG.integers(0, 256, size=(1, 8, 8, 3), dtype=np.uint8)
    np.testing.assert_allclose(run(model, {"images": image})["probs"].sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("edits:\n  - rename_inputs: {a: b}\n", "edit 1: unknown edit 'rename_inputs'. Did you mean 'rename_input'?"),
        ("edits:\n  - {batch: 2, opset: 13}\n", "edit 1: expected one `EDIT: VALUE` mapping"),
        ("edits: [\n", "is not valid YAML"),
        ("edits: []\n", "holds no list of edits"),
        ("- batch: two\n", "edit 1: batch: expected a whole number, got 'two'"),
    ],
)
def test_bad_recipes(tmp_path: Path, text: str, fragment: str) -> None:
    src, recipe = tmp_path / "tiny.onnx", tmp_path / "bad.yaml"
    onnx.save(tiny_conv_relu(), str(src))
    recipe.write_text(text)
    with pytest.raises(Pt2trtError) as info:
        pt2trt.edit(src, tmp_path / "out.onnx", recipe=recipe)
    assert fragment in str(info.value)
    assert not (tmp_path / "out.onnx").exists()


def test_cli_edit(cli: Cli, tmp_path: Path) -> None:
    src = tmp_path / "tiny.onnx"
    onnx.save(tiny_conv_relu(), str(src))
    out = tmp_path / "out.onnx"
    result = cli(
        "edit", str(src), "-o", str(out), "--rename-input", "input=images", "--append", "argmax:axis=1",
        "--set-metadata", "k=v", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [s["edit"] for s in data["steps"]] == ["rename_input", "append", "set_metadata"]
    assert data["steps"][0]["verified"] is True and data["nodes_after"] == 3
    assert io(onnx.load(str(out)))[1] == [("class_id", onnx.TensorProto.INT64, [1, 8, 8])]
    again = cli("edit", str(src), "-o", str(out), "--dynamic-batch")
    assert_one_line_error(again, "already exists", "--force")
    text = cli("edit", str(src), "-o", str(out), "--uint8-nhwc", "--force")
    assert (
        text.returncode == 0
        and "verified" in text.stdout
        and text.stdout.strip().splitlines()[-1].startswith(f"edited {out}: 1 edit(s), 1 verified")
    )


def test_cli_edit_failure_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    src = tmp_path / "fold.onnx"
    onnx.save(batch_folding_model(), str(src))
    result = cli("edit", str(src), "-o", str(tmp_path / "out.onnx"), "--dynamic-batch")
    assert_one_line_error(result, "dynamic_batch changed the model's outputs", "nothing written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fold.onnx"]
    assert_one_line_error(cli("edit", str(src), "-o", str(tmp_path / "o.onnx")), "no edit given")
    assert_one_line_error(cli("edit", str(src), "--append", "nms:iou=high"), "iou must be a number")


# -- real models -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def resnet18(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("edit-r18") / "resnet18.onnx"
    pt2trt.export("torchvision:resnet18", [pt2trt.parse_input("input:1x3x224x224")], path)
    return path


@pytest.fixture(scope="module")
def ssdlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("edit-ssd") / "ssdlite.onnx"
    # the dynamo exporter fails on SSDlite after a minute; the fallback itself is tested in test_real_models.py
    spec = [pt2trt.parse_input("images:1x3x320x320")]
    pt2trt.export("torchvision:ssdlite320_mobilenet_v3_large", spec, path, ExportSettings(exporter="legacy"))
    return path


@pytest.mark.slow
def test_resnet18_deploy_edits(resnet18: Path, tmp_path: Path) -> None:
    out = tmp_path / "deploy.onnx"
    edits = [("rename_input", "input=images"), ("dynamic_batch", True), ("uint8_nhwc", True), ("append", "topk:5")]
    result = pt2trt.edit(resnet18, out, edits)
    assert all(s.equivalence is not None and s.equivalence.passed for s in result.steps)
    model = onnx.load(str(out))
    assert io(model)[0] == [("images", onnx.TensorProto.UINT8, ["batch", 224, 224, 3])]
    assert [o.name for o in model.graph.output] == ["topk_scores", "topk_ids"]
    images = RNG.integers(0, 256, size=(3, 224, 224, 3), dtype=np.uint8)
    normalised = ((images / 255.0 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)).transpose(0, 3, 1, 2)
    logits = np.concatenate(
        [run(onnx.load(str(resnet18)), {"input": normalised[i : i + 1].astype(np.float32)})["output"] for i in range(3)]
    )
    got = run(model, {"images": images})
    np.testing.assert_array_equal(got["topk_ids"], np.argsort(-logits, axis=1)[:, :5])
    np.testing.assert_allclose(got["topk_scores"], np.sort(logits, axis=1)[:, ::-1][:, :5], rtol=1e-3, atol=1e-4)


@pytest.mark.slow
def test_resnet18_extract_and_remove(resnet18: Path, tmp_path: Path) -> None:
    proto = onnx.load(str(resnet18))
    relu = next(n for n in proto.graph.node if n.op_type == "Relu")
    pool = next(n for n in proto.graph.node if n.op_type == "MaxPool")
    part, steps = edited(proto, ("extract", f"{relu.output[0]}:{pool.output[0]}"))
    assert ops(part) == ["MaxPool"] and steps[0].equivalence.passed
    without_fc, steps = edited(proto, ("remove_node", proto.graph.node[-1].name))
    x = RNG.standard_normal((1, 3, 224, 224)).astype(np.float32)
    assert run(without_fc, {"input": x})["output"].shape == (1, 512)


@pytest.mark.slow
def test_ssdlite_edits(ssdlite: Path, tmp_path: Path) -> None:
    out = tmp_path / "ssd.onnx"
    edits = [("rename_output", "boxes=det_boxes"), ("uint8_nhwc", "images"), ("set_metadata", "task=detect")]
    result = pt2trt.edit(ssdlite, out, edits)
    assert [s.equivalence.passed if s.equivalence else None for s in result.steps] == [True, True, None]
    model = onnx.load(str(out))
    assert io(model)[0] == [("images", onnx.TensorProto.UINT8, [1, 320, 320, 3])]
    assert [o.name for o in model.graph.output] == ["det_boxes", "scores", "labels"]
    image = RNG.integers(0, 256, size=(1, 320, 320, 3), dtype=np.uint8)
    normalised = ((image / 255.0 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)).transpose(0, 3, 1, 2)
    ref = run(onnx.load(str(ssdlite)), {"images": normalised.astype(np.float32)})
    got = run(model, {"images": image})
    np.testing.assert_allclose(got["det_boxes"], ref["boxes"], rtol=1e-3, atol=1e-3)
    np.testing.assert_array_equal(got["labels"], ref["labels"])


@pytest.mark.parametrize("command", ["edit", "simplify", "view"])
def test_help_imports_nothing_heavy(command: str) -> None:
    import subprocess
    import sys

    from tests.test_cli_errors import PROBE

    proc = subprocess.run([sys.executable, "-c", PROBE, command, "--help"], capture_output=True, text=True, timeout=120)
    assert proc.stderr.strip().endswith("EXIT=0 HEAVY="), proc.stderr
    if command == "edit":  # every edit of the table is a flag
        assert all(e.info.flag in proc.stdout for e in EDITS.values())
