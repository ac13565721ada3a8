"""Input specs in trtexec's spelling: parse_input, parse_dynamic, apply_dynamic, with_batch and the JSON round trip."""

from __future__ import annotations

import json

import pytest

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.shapes import (
    DTYPES,
    InputSpec,
    apply_dynamic,
    normalize_dtype,
    parse_dynamic,
    parse_input,
    parse_shape,
    specs_from_json,
    specs_to_json,
    with_batch,
)

# -- parse_input ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "shape", "dtype"),
    [
        ("input:1x3x224x224", "input", (1, 3, 224, 224), "float32"),
        ("mask:1x1x28x28:float16", "mask", (1, 1, 28, 28), "float16"),
        ("1x3x8x8", None, (1, 3, 8, 8), "float32"),
        ("1x3x8x8:fp16", None, (1, 3, 8, 8), "float16"),
        ("ids:1x128:int64", "ids", (1, 128), "int64"),
        ("x:7", "x", (7,), "float32"),
        ("x:2,3,4", "x", (2, 3, 4), "float32"),  # commas work too
        ("x:1X3", "x", (1, 3), "float32"),
        ("  x:1x3  ", "x", (1, 3), "float32"),
        ("x:scalar", "x", (), "float32"),
        ("x:scalar:int64", "x", (), "int64"),
        ("input:0:1x3", "input:0", (1, 3), "float32"),  # TensorFlow-style names keep their colon
        ("int:1x3", "int", (1, 3), "float32"),  # a name that is also a dtype alias is still a name
        ("x:1x3:torch.float16", "x", (1, 3), "float16"),
        ("x:1x3:BF16", "x", (1, 3), "bfloat16"),
    ],
)
def test_parse_input(text: str, name: str | None, shape: tuple[int, ...], dtype: str) -> None:
    spec = parse_input(text)
    assert spec == InputSpec(name, shape, dtype)
    assert spec.dynamic == {}


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("fp32", "float32"),
        ("float", "float32"),
        ("f32", "float32"),
        ("fp16", "float16"),
        ("half", "float16"),
        ("f16", "float16"),
        ("bf16", "bfloat16"),
        ("fp64", "float64"),
        ("double", "float64"),
        ("long", "int64"),
        ("i64", "int64"),
        ("int", "int32"),
        ("i32", "int32"),
        ("int16", "int16"),
        ("int8", "int8"),
        ("u8", "uint8"),
        ("bool", "bool"),
        ("HALF", "float16"),
        ("torch.long", "int64"),
    ],
)
def test_dtype_aliases(alias: str, canonical: str) -> None:
    assert parse_input(f"x:1x2:{alias}").dtype == canonical
    assert normalize_dtype(alias) == canonical


def test_every_alias_maps_to_a_numpy_dtype_name() -> None:
    import numpy as np

    for canonical in set(DTYPES.values()) - {"bfloat16"}:
        assert np.dtype(canonical).name == canonical


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "malformed input spec ''"),
        ("   ", "malformed input spec"),
        ("x:", "malformed input spec 'x:'"),
        (":1x3", "malformed input spec ':1x3'"),
        ("x:1x3:", "malformed input spec 'x:1x3:'"),
        ("x::1x3", "malformed input spec 'x::1x3'"),
        ("x:1xx3", "'1xx3' is not a shape"),
        ("x:1x3x", "'1x3x' is not a shape"),
        ("x:x1x3", "'x1x3' is not a shape"),
        ("x:-1x3", "'-1x3' is not a shape"),
        ("x:1.5x3", "'1.5x3' is not a shape"),
        ("x:1 x 3", "'1 x 3' is not a shape"),
        ("x:axb", "'axb' is not a shape"),
        ("input 1x3x8x8", "'input 1x3x8x8' is not a shape"),
        ("x:fp16", "'x' is not a shape"),  # the shape is missing
        ("x:1x0x3", "zero-sized dimension"),
        ("x:0", "zero-sized dimension"),
        ("x:1x3:float17", "unknown dtype 'float17'"),
        ("1x3:complex64", "unknown dtype 'complex64'"),
    ],
)
def test_parse_input_rejects(text: str, fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_input(text)
    assert fragment in str(info.value)
    assert info.value.exit_code == 2
    assert "\n" not in str(info.value)


def test_unknown_dtype_lists_the_choices() -> None:
    with pytest.raises(UsageError, match="unknown dtype") as info:
        parse_input("x:1x3:float17")
    assert info.value.hint is not None
    for name in ("float32", "float16", "int64", "bool"):
        assert name in info.value.hint


def test_usage_error_is_a_pt2trt_error() -> None:
    with pytest.raises(Pt2trtError):
        parse_input("x:nope")


@pytest.mark.parametrize(
    ("text", "shape"),
    [("1x3x224x224", (1, 3, 224, 224)), ("1,3", (1, 3)), ("2*5", (2, 5)), ("scalar", ()), ("()", ()), ("08", (8,))],
)
def test_parse_shape(text: str, shape: tuple[int, ...]) -> None:
    assert parse_shape(text) == shape


@pytest.mark.parametrize("text", ["", "x", "1x", "x1", "1xx1", "-1", "1;2"])
def test_parse_shape_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="malformed shape"):
        parse_shape(text)


@pytest.mark.parametrize(
    "text", ["input:1x3x224x224", "mask:1x1x28x28:float16", "1x3x8x8", "x:scalar", "ids:4:int64", "input:0:1x3:bf16"]
)
def test_str_parses_back(text: str) -> None:
    spec = parse_input(text)
    assert parse_input(str(spec)) == spec


def test_str_omits_default_dtype() -> None:
    assert str(parse_input("x:1x3:fp32")) == "x:1x3"
    assert str(parse_input("x:1x3:fp16")) == "x:1x3:float16"
    assert str(parse_input("1x3")) == "1x3"


# -- parse_dynamic -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "axes"),
    [
        ("input:0", "input", [(0, None)]),
        ("input:0=batch,2,3", "input", [(0, "batch"), (2, None), (3, None)]),
        ("input:2=height,3=width", "input", [(2, "height"), (3, "width")]),
        ("input:-1", "input", [(-1, None)]),
        ("input:0:0", "input:0", [(0, None)]),  # the last colon separates the axes
        ("mask:0=_n2", "mask", [(0, "_n2")]),
    ],
)
def test_parse_dynamic(text: str, name: str, axes: list[tuple[int, str | None]]) -> None:
    assert parse_dynamic(text) == (name, axes)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("input", "malformed --dynamic 'input'"),
        ("input:", "malformed --dynamic 'input:'"),
        (":0", "malformed --dynamic ':0'"),
        ("0", "malformed --dynamic '0'"),
        ("input:x", "'x' is not an axis number"),
        ("input:0,,1", "'' is not an axis number"),
        ("input:1.5", "'1.5' is not an axis number"),
        ("input:0=1bad", "'1bad' is not a valid dimension name"),
        ("input:0=my-dim", "'my-dim' is not a valid dimension name"),
        ("input:0=", "empty dimension name"),
    ],
)
def test_parse_dynamic_rejects(text: str, fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_dynamic(text)
    assert fragment in str(info.value)


# -- apply_dynamic -------------------------------------------------------------------------------------------------


@pytest.fixture
def two_specs() -> list[InputSpec]:
    return [parse_input("input:1x3x8x8"), parse_input("mask:1x1x8x8:float16")]


def test_apply_dynamic_nothing_changes_nothing(two_specs: list[InputSpec]) -> None:
    assert apply_dynamic(two_specs) == two_specs


def test_dynamic_batch_marks_dim0_of_every_input(two_specs: list[InputSpec]) -> None:
    out = apply_dynamic(two_specs, dynamic_batch=True)
    assert [s.dynamic for s in out] == [{0: "batch"}, {0: "batch"}]
    assert [s.shape for s in out] == [(1, 3, 8, 8), (1, 1, 8, 8)]  # example shapes untouched
    assert out[1].dtype == "float16"
    assert out[0].display_shape == "batchx3x8x8"
    assert two_specs[0].dynamic == {}  # specs are immutable: the input list is not modified


def test_dynamic_batch_skips_scalars() -> None:
    out = apply_dynamic([parse_input("x:scalar"), parse_input("y:4")], dynamic_batch=True)
    assert out[0].dynamic == {}
    assert out[1].dynamic == {0: "batch"}


def test_dynamic_axes_with_default_and_given_labels(two_specs: list[InputSpec]) -> None:
    out = apply_dynamic(two_specs, dynamic=["input:0=n,2,-1"])
    assert out[0].dynamic == {0: "n", 2: "input_dim2", 3: "input_dim3"}  # -1 is the last axis
    assert out[0].display_shape == "nx3xinput_dim2xinput_dim3"
    assert out[1].dynamic == {}


def test_dynamic_per_input_combined_with_dynamic_batch(two_specs: list[InputSpec]) -> None:
    out = apply_dynamic(two_specs, dynamic_batch=True, dynamic=["mask:2=h,3=w", "input:0=b"])
    assert out[0].dynamic == {0: "b"}  # an explicit label overrides the batch default
    assert out[1].dynamic == {0: "batch", 2: "h", 3: "w"}


def test_dynamic_unknown_input_names_the_inputs(two_specs: list[InputSpec]) -> None:
    with pytest.raises(UsageError) as info:
        apply_dynamic(two_specs, dynamic=["image:0"])
    assert "'image'" in str(info.value)
    assert "input, mask" in str(info.value)


@pytest.mark.parametrize("axis", [4, -5, 10])
def test_dynamic_axis_out_of_range(two_specs: list[InputSpec], axis: int) -> None:
    with pytest.raises(UsageError) as info:
        apply_dynamic(two_specs, dynamic=[f"input:{axis}"])
    assert f"axis {axis} cannot be dynamic" in str(info.value)
    assert "between 0 and 3" in str(info.value)


def test_dynamic_malformed_text_is_a_usage_error(two_specs: list[InputSpec]) -> None:
    with pytest.raises(UsageError, match="malformed --dynamic"):
        apply_dynamic(two_specs, dynamic=["input"])


# -- with_batch ----------------------------------------------------------------------------------------------------


def test_with_batch_resizes_only_dynamic_batch_axes(two_specs: list[InputSpec]) -> None:
    specs = apply_dynamic(two_specs, dynamic=["input:0"])
    out = with_batch(specs, 8)
    assert out[0].shape == (8, 3, 8, 8)
    assert out[0].dynamic == {0: "batch"}
    assert out[1].shape == (1, 1, 8, 8)  # static batch: left alone


def test_with_batch_ignores_other_dynamic_axes() -> None:
    spec = apply_dynamic([parse_input("x:1x3x8x8")], dynamic=["x:2,3"])[0]
    assert with_batch([spec], 4)[0].shape == (1, 3, 8, 8)


@pytest.mark.parametrize("batch", [0, -1])
def test_with_batch_rejects_non_positive(two_specs: list[InputSpec], batch: int) -> None:
    with pytest.raises(UsageError, match=f"got {batch}"):
        with_batch(two_specs, batch)


# -- to_dict / from_dict -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        InputSpec("input", (1, 3, 224, 224)),
        InputSpec("mask", (1, 1, 28, 28), "float16", {0: "batch", 2: "h"}),
        InputSpec(None, (4,), "int64"),
        InputSpec("s", (), "bool"),
        InputSpec("b", (2, 8), "bfloat16", {1: "seq"}),
    ],
)
def test_to_dict_from_dict_round_trip(spec: InputSpec) -> None:
    data = spec.to_dict()
    assert json.loads(json.dumps(data)) == data  # plain JSON types only
    assert InputSpec.from_dict(data) == spec
    assert InputSpec.from_dict(json.loads(json.dumps(data))) == spec


def test_to_dict_layout() -> None:
    spec = InputSpec("mask", (1, 1, 28, 28), "float16", {2: "h", 0: "batch"})
    assert spec.to_dict() == {
        "name": "mask",
        "shape": [1, 1, 28, 28],
        "dtype": "float16",
        "dynamic": {"0": "batch", "2": "h"},
    }


def test_from_dict_defaults_and_aliases() -> None:
    assert InputSpec.from_dict({"shape": [1, 3]}) == InputSpec(None, (1, 3), "float32")
    assert InputSpec.from_dict({"name": "x", "shape": ["2"], "dtype": "fp16", "dynamic": None}) == InputSpec(
        "x", (2,), "float16"
    )
    with pytest.raises(UsageError, match="unknown dtype"):
        InputSpec.from_dict({"name": "x", "shape": [1], "dtype": "float17"})


def test_specs_json_round_trip(two_specs: list[InputSpec]) -> None:
    specs = apply_dynamic(two_specs, dynamic_batch=True)
    text = specs_to_json(specs)
    assert "\n" not in text and " " not in text  # compact: it is stored in the ONNX metadata
    assert specs_from_json(text) == specs


def test_specs_are_immutable_and_hashable() -> None:
    spec = InputSpec("x", (1, 3), dynamic={0: "batch"})
    with pytest.raises(AttributeError):
        spec.name = "y"  # type: ignore[misc]
    assert len({spec, InputSpec("x", (1, 3), dynamic={0: "batch"})}) == 1
    assert spec.with_name("y").name == "y" and spec.name == "x"
    assert spec.with_dim(0, 5).shape == (5, 3) and spec.shape == (1, 3)
