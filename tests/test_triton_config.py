"""``pt2trt triton``: config.pbtxt generated from the model, parsed by Triton's schema (tritonclient's
``model_config_pb2``), cross-checked, and bad repositories refused with one line. No server needed here."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from pt2trt.backends.tensorrt.metadata import EngineMetadata, write_metadata
from pt2trt.serve import ServeOptions, check_repository, write_repository
from pt2trt.serve.config import dtype_name, parse_config
from pt2trt.serve.versions import releases, table_source, tensorrt_of
from tests.conftest import assert_one_line_error
from tests.tensorrt_models import conv_relu, save

pytest.importorskip("tritonclient.grpc.model_config_pb2")


def engine(
    tmp_path: Path, *, tensorrt: str = "10.7.0.23", max_batch: int = 8, out_dtype: str = "float32", name: str = "m"
) -> Path:
    """A stand-in engine file with the metadata pt2trt build writes beside it (only the metadata is read)."""
    path = tmp_path / f"{name}.plan"
    path.write_bytes(b"not a real engine: the repository writer reads the metadata only")
    shapes = {"min": [1, 3, 16, 16], "opt": [4, 3, 16, 16], "max": [max_batch, 3, 16, 16]}
    write_metadata(
        tmp_path / f"{name}.plan.json",
        EngineMetadata(
            tensorrt_version=tensorrt, gpu_name="NVIDIA L4", compute_capability="8.9", onnx_path="m.onnx",
            onnx_sha256="", engine_sha256="", precision="fp16", strongly_typed=False,
            profiles=[{"input": shapes}], flags={},
            inputs=[{"name": "input", "dtype": "float32", "shape": ["batch", 3, 16, 16]}],
            outputs=[{"name": "output", "dtype": out_dtype, "shape": ["batch", 4, 16, 16]}],
        ),
    )  # fmt: skip
    return path


def test_onnx_dynamic_batch_config_leaves_out_the_batch_axis(tmp_path: Path) -> None:
    model = save(conv_relu("batch"), tmp_path / "cr.onnx")
    options = ServeOptions("cr", max_batch=16, instances=2, kind="cpu", dynamic_batching=True, preferred=(4, 8),
                           max_queue_delay_us=100)  # fmt: skip
    result = write_repository(model, tmp_path / "repo", options)
    config = parse_config((tmp_path / "repo/cr/config.pbtxt").read_text())
    assert config.platform == "onnxruntime_onnx" and config.max_batch_size == 16
    assert [(t.name, list(t.dims)) for t in config.input] == [("input", [3, 16, 16])]
    assert [(t.name, list(t.dims)) for t in config.output] == [("output", [4, 16, 16])]
    assert list(config.dynamic_batching.preferred_batch_size) == [4, 8]
    assert config.dynamic_batching.max_queue_delay_microseconds == 100
    assert config.instance_group[0].count == 2
    assert (tmp_path / "repo/cr/1/model.onnx").read_bytes() == model.read_bytes()
    assert result.models == ["cr"] and check_repository(tmp_path / "repo") == 1


def test_static_batch_and_other_dynamic_axes(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT16, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT16, [1, 3, "H", "W"])],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    path = tmp_path / "static.onnx"
    onnx.save(model, str(path))
    write_repository(path, tmp_path / "repo", ServeOptions("static", tensorrt_accelerator=True))
    config = parse_config((tmp_path / "repo/static/config.pbtxt").read_text())
    assert config.max_batch_size == 0
    assert list(config.input[0].dims) == [1, 3, -1, -1]  # full shape, -1 for the dynamic axes
    assert dtype_name(config.input[0].data_type) == "TYPE_FP16"
    assert config.optimization.execution_accelerators.gpu_execution_accelerator[0].name == "tensorrt"
    with pytest.raises(Exception, match="static batch"):
        write_repository(path, tmp_path / "repo2", ServeOptions("static", max_batch=4))


def test_engine_repository_is_bounded_by_its_profile(tmp_path: Path) -> None:
    plan = engine(tmp_path, max_batch=8)
    result = write_repository(plan, tmp_path / "repo", ServeOptions("m", triton_release="24.12"))
    assert result.max_batch_size == 8
    config = parse_config((tmp_path / "repo/m/config.pbtxt").read_text())
    assert config.platform == "tensorrt_plan" and (tmp_path / "repo/m/1/model.plan").is_file()
    assert check_repository(tmp_path / "repo", release="24.12") == 1


def test_bad_repositories_are_refused_with_one_line(cli, tmp_path: Path) -> None:
    plan = engine(tmp_path, max_batch=8)
    out = str(tmp_path / "repo")
    # batch larger than the engine profile
    result = cli("triton", str(plan), "-o", out, "--max-batch", "16", "--triton-version", "24.12")
    assert_one_line_error(result, "--max-batch 16 is larger than the engine's optimization profile allows (8)")
    # an engine from another TensorRT than the Triton release's
    result = cli("triton", str(plan), "-o", out, "--triton-version", "24.05")
    assert_one_line_error(result, "built with TensorRT 10.7.0.23", "Triton 24.05 ships TensorRT 10.0.1.6")
    # a dtype the backend cannot serve
    fp64 = engine(tmp_path, out_dtype="float64", name="fp64")
    result = cli("triton", str(fp64), "-o", out, "--triton-version", "24.12")
    assert_one_line_error(result, "output 'output' is TYPE_FP64", "tensorrt_plan backend cannot serve")
    assert not Path(out).exists(), "nothing written"
    # an output name that is not in the model (a hand-edited config)
    model = save(conv_relu("batch"), tmp_path / "cr.onnx")
    ok = cli("triton", str(model), "-o", out, "--kind", "cpu")
    assert ok.returncode == 0, ok.stderr
    config = Path(out) / "cr" / "config.pbtxt"
    config.write_text(config.read_text().replace('name: "output"', 'name: "logits"'))
    result = cli("triton", "--check", out)
    assert_one_line_error(result, "output 'logits' is not in model.onnx (its outputs: output)")
    # a field Triton's schema does not know
    config.write_text(config.read_text().replace("max_batch_size", "max_batch_sise"))
    result = cli("triton", "--check", out)
    assert_one_line_error(result, "does not follow Triton's model config schema", "max_batch_sise")
    # no overwrite without --force
    result = cli("triton", str(model), "-o", out)
    assert_one_line_error(result, "already exists", "--force")
    assert cli("triton", str(model), "-o", out, "--force").returncode == 0
    assert cli("triton", "--check", out).returncode == 0


def test_tensorrt_table_has_its_source_and_unknown_releases_say_what_to_do(cli, tmp_path: Path) -> None:
    assert "docs.nvidia.com" in table_source()
    assert tensorrt_of("24.05") == "10.0.1.6" and tensorrt_of("24.12") == "10.7.0.23"
    assert list(releases()) == sorted(releases())
    plan = engine(tmp_path, tensorrt="10.7.0.23")
    result = cli("triton", str(plan), "-o", str(tmp_path / "r"), "--triton-version", "99.01")
    assert_one_line_error(result, "Triton release 99.01 is not in pt2trt's table", "--tensorrt-version")
    ok = cli("triton", str(plan), "-o", str(tmp_path / "r"), "--tensorrt-version", "10.7.0")
    assert ok.returncode == 0, ok.stderr


def test_openvino_repository_is_checked(tmp_path: Path) -> None:
    pytest.importorskip("openvino")
    from pt2trt.verification.openvino import export_openvino

    ir = export_openvino(save(conv_relu("batch"), tmp_path / "cr.onnx"), tmp_path / "ir")
    write_repository(ir.xml, tmp_path / "repo", ServeOptions("cr", kind="cpu"))
    config = parse_config((tmp_path / "repo/cr/config.pbtxt").read_text())
    assert config.backend == "openvino" and config.max_batch_size == 8
    assert sorted(p.name for p in (tmp_path / "repo/cr/1").iterdir()) == ["model.bin", "model.xml"]
    assert check_repository(tmp_path / "repo") == 1
