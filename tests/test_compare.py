"""compare_tensors / compare_outputs: error statistics checked against values computed by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from pt2trt.comparators import Comparison, TensorComparison, compare_outputs, compare_tensors


def cmp(reference: object, candidate: object, *, rtol: float = 0.1, atol: float = 0.01) -> TensorComparison:
    return compare_tensors("out", np.asarray(reference), np.asarray(candidate), rtol=rtol, atol=atol)


# -- statistics ----------------------------------------------------------------------------------------------------


def test_statistics_by_hand() -> None:
    # diff = [0, 0.5, 1, 0.001]; tol = 0.01 + 0.1*|ref| = [0.11, 0.21, 0.41, 0.01]
    r = cmp([1.0, 2.0, 4.0, 0.0], [1.0, 2.5, 3.0, 0.001])
    assert r.max_abs_error == 1.0
    assert r.mean_abs_error == pytest.approx((0 + 0.5 + 1.0 + 0.001) / 4, rel=1e-12)
    assert r.max_rel_error == 0.25  # 0.5/2 and 1/4; the zero reference is left out
    expected_cos = (1 * 1 + 2 * 2.5 + 4 * 3) / (math.sqrt(1 + 4 + 16) * math.sqrt(1 + 6.25 + 9 + 0.001**2))
    assert r.cosine_similarity == pytest.approx(expected_cos, rel=1e-12)
    assert r.outside_tolerance_pct == 50.0  # 2.5 and 3.0 are outside, 0.001 is within atol
    assert r.passed is False
    assert r.note == ""
    assert r.reference_shape == (4,) and r.candidate_shape == (4,)
    assert r.dtype == "float64"


def test_statistics_2d_float32() -> None:
    ref = np.array([[1.0, -2.0], [0.5, 8.0]], dtype=np.float32)
    cand = np.array([[1.0, -2.25], [0.5, 7.0]], dtype=np.float32)
    r = compare_tensors("logits", ref, cand, rtol=0.0, atol=0.5)
    assert r.name == "logits"
    assert r.max_abs_error == 1.0
    assert r.mean_abs_error == 0.3125  # (0.25 + 1) / 4
    assert r.max_rel_error == 0.125  # 0.25/2 = 1/8 both
    assert r.outside_tolerance_pct == 25.0  # only 8 -> 7 exceeds atol 0.5
    assert r.dtype == "float32"
    assert r.reference_shape == (2, 2)
    dot = 1 + 4.5 + 0.25 + 56  # |ref|^2 = 1+4+0.25+64, |cand|^2 = 1+5.0625+0.25+49
    assert r.cosine_similarity == pytest.approx(dot / (math.sqrt(69.25) * math.sqrt(55.3125)), rel=1e-12)


def test_identical_tensors_pass_with_zero_error() -> None:
    x = np.linspace(-3, 3, 24, dtype=np.float32).reshape(2, 3, 4)
    r = compare_tensors("x", x, x.copy(), rtol=0.0, atol=0.0)
    assert r.passed
    assert (r.max_abs_error, r.max_rel_error, r.mean_abs_error, r.outside_tolerance_pct) == (0.0, 0.0, 0.0, 0.0)
    assert r.cosine_similarity == pytest.approx(1.0, abs=1e-12)


def test_sign_flip_has_cosine_minus_one() -> None:
    r = cmp([1.0, -2.0, 3.0], [-1.0, 2.0, -3.0])
    assert r.cosine_similarity == pytest.approx(-1.0, abs=1e-12)
    assert r.max_rel_error == 2.0
    assert r.outside_tolerance_pct == 100.0


def test_all_zero_sides_cosine() -> None:
    assert cmp([0.0, 0.0], [0.0, 0.0]).cosine_similarity == 1.0
    assert cmp([0.0, 0.0], [1.0, 0.0]).cosine_similarity == 0.0


def test_candidate_dtype_is_reported() -> None:
    r = cmp(np.array([1.0, 2.0], dtype=np.float32), np.array([1.0, 2.0], dtype=np.float16))
    assert r.passed and r.dtype == "float16"


# -- tolerance rule ------------------------------------------------------------------------------------------------


def test_tolerance_boundary_is_inclusive() -> None:
    # tol = atol + rtol*|ref| = 0.25 + 0.125*2 = 0.5, all exactly representable
    assert cmp([2.0], [2.5], rtol=0.125, atol=0.25).passed
    assert cmp([2.0], [1.5], rtol=0.125, atol=0.25).passed
    over = cmp([2.0], [np.nextafter(2.5, 3.0)], rtol=0.125, atol=0.25)
    assert not over.passed and over.outside_tolerance_pct == 100.0
    assert not cmp([2.0], [np.nextafter(1.5, 0.0)], rtol=0.125, atol=0.25).passed


def test_rtol_scales_with_the_reference_not_the_candidate() -> None:
    # |2.5 - 2| = 0.5: within 0.2*|2.5| = 0.5 but not within 0.2*|2| = 0.4
    assert cmp([2.5], [2.0], rtol=0.2, atol=0.0).passed
    assert not cmp([2.0], [2.5], rtol=0.2, atol=0.0).passed


def test_zero_reference_is_judged_by_atol_and_left_out_of_rel() -> None:
    r = cmp([0.0, 1.0], [1e-6, 1.0], rtol=0.0, atol=1e-5)
    assert r.passed
    assert r.max_rel_error == 0.0
    assert r.max_abs_error == pytest.approx(1e-6)
    assert not cmp([0.0], [2e-5], rtol=0.5, atol=1e-5).passed


def test_outside_percentage_counts_elements() -> None:
    ref = np.zeros(8)
    cand = np.array([0, 0, 0, 1, 0, 1, 1, 0], dtype=np.float64)
    r = cmp(ref, cand, rtol=0.0, atol=0.5)
    assert r.outside_tolerance_pct == 37.5
    assert r.mean_abs_error == 0.375


# -- shapes and empties --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref_shape", "cand_shape", "text"),
    [
        ((2, 3), (3, 2), "reference 2x3 vs candidate 3x2"),
        ((6,), (2, 3), "reference 6 vs candidate 2x3"),  # same size is not enough
        ((3,), (1, 3), "reference 3 vs candidate 1x3"),  # broadcastable is not enough
        ((), (1,), "reference scalar vs candidate 1"),
    ],
)
def test_shape_mismatch(ref_shape: tuple[int, ...], cand_shape: tuple[int, ...], text: str) -> None:
    r = cmp(np.ones(ref_shape), np.ones(cand_shape))
    assert not r.passed
    assert r.note == f"shape mismatch: {text}"
    assert r.reference_shape == ref_shape and r.candidate_shape == cand_shape
    assert r.max_abs_error is None and r.outside_tolerance_pct is None and r.cosine_similarity is None


def test_empty_on_both_sides_passes() -> None:
    r = cmp(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32))
    assert r.passed
    assert r.note == "empty on both sides"
    assert r.reference_shape == (0, 3)
    assert r.max_abs_error is None and r.mean_abs_error is None and r.outside_tolerance_pct is None


@pytest.mark.parametrize(("ref_shape", "cand_shape"), [((0, 4), (1, 4)), ((2, 4), (0, 4)), ((0,), (0, 4))])
def test_empty_vs_other_shape_fails(ref_shape: tuple[int, ...], cand_shape: tuple[int, ...]) -> None:
    r = cmp(np.zeros(ref_shape), np.zeros(cand_shape))
    assert not r.passed
    assert r.note.startswith("shape mismatch")


def test_scalar_outputs() -> None:
    same = cmp(np.float32(1.5), np.float32(1.5))
    assert same.passed and same.reference_shape == () and same.max_abs_error == 0.0
    off = cmp(np.array(2.0), np.array(3.0), rtol=0.0, atol=0.5)
    assert not off.passed
    assert (off.max_abs_error, off.max_rel_error, off.outside_tolerance_pct) == (1.0, 0.5, 100.0)


# -- NaN and infinity ----------------------------------------------------------------------------------------------


def test_nan_on_both_sides_at_the_same_place_matches() -> None:
    r = cmp([1.0, np.nan, 3.0], [1.0, np.nan, 3.0])
    assert r.passed
    assert r.note == "NaN: reference 1, candidate 1"
    assert r.max_abs_error == 0.0
    assert r.cosine_similarity == pytest.approx(1.0)


def test_nan_on_one_side_fails() -> None:
    r = cmp([1.0, np.nan, 3.0], [1.5, 2.0, 3.0], rtol=0.0, atol=1.0)
    assert not r.passed
    assert r.outside_tolerance_pct == pytest.approx(100 / 3)
    assert r.note == "NaN: reference 1, candidate 0"
    assert r.max_abs_error == 0.5  # over the comparable elements
    r = cmp([1.0, 2.0], [np.nan, np.nan])
    assert not r.passed and r.outside_tolerance_pct == 100.0
    assert r.note == "NaN: reference 0, candidate 2"
    assert r.max_abs_error == math.inf
    assert r.cosine_similarity is None  # no finite pair to compare


def test_nan_in_different_places_fails() -> None:
    r = cmp([np.nan, 1.0], [1.0, np.nan])
    assert not r.passed and r.outside_tolerance_pct == 100.0


def test_equal_infinities_match() -> None:
    r = cmp([-np.inf, 1.0, np.inf], [-np.inf, 1.0, np.inf])
    assert r.passed
    assert r.max_abs_error == 0.0
    assert r.outside_tolerance_pct == 0.0


def test_infinity_mismatches_fail() -> None:
    opposite = cmp([np.inf, 1.0], [-np.inf, 1.0])
    assert not opposite.passed
    assert opposite.max_abs_error == math.inf
    assert "inf" in opposite.note
    finite = cmp([np.inf, 1.0], [5.0, 1.0], rtol=0.5, atol=1.0)  # rtol*inf must not make anything "close"
    assert not finite.passed and finite.outside_tolerance_pct == 50.0
    assert not cmp([5.0], [np.inf], rtol=0.5, atol=1.0).passed


# -- exact comparisons ---------------------------------------------------------------------------------------------


def test_integers_are_compared_exactly() -> None:
    # default tolerances would accept 1000 vs 1001 (1e-5 + 1e-3*1000 >= 1); a class index must match exactly
    r = compare_tensors("labels", np.array([1, 2, 1000]), np.array([1, 2, 1001]), rtol=1e-3, atol=1e-5)
    assert not r.passed
    assert r.note == "compared exactly"
    assert r.outside_tolerance_pct == pytest.approx(100 / 3)
    assert r.max_abs_error == 1.0  # statistics are still reported
    assert not cmp(np.array([3], np.int64), np.array([4], np.int64), rtol=1.0, atol=10.0).passed


def test_integers_of_different_width_match() -> None:
    r = cmp(np.array([[1, -7]], np.int64), np.array([[1, -7]], np.int32))
    assert r.passed and r.outside_tolerance_pct == 0.0 and r.dtype == "int32"


def test_unsigned_difference_does_not_wrap() -> None:
    r = cmp(np.array([0, 255], np.uint8), np.array([1, 255], np.uint8))
    assert not r.passed
    assert r.max_abs_error == 1.0  # not 255 from uint8 wrap-around


def test_booleans_are_compared_exactly() -> None:
    r = cmp([True, False, True, False], [True, True, True, False])
    assert not r.passed
    assert r.outside_tolerance_pct == 25.0
    assert r.note == "compared exactly"
    assert r.max_abs_error is None  # no error statistics for booleans
    assert cmp([True, False], [True, False]).passed


def test_bfloat16_is_compared_with_tolerance() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    ref = np.array([1.0, 2.0], dtype=ml_dtypes.bfloat16)
    r = compare_tensors("x", ref, np.array([1.0, 2.0078125], np.float32), rtol=0.01, atol=0.0)
    assert r.passed
    assert r.max_abs_error == 0.0078125


# -- compare_outputs -----------------------------------------------------------------------------------------------


def test_compare_outputs_all_pass() -> None:
    ref = {"logits": np.array([1.0, 2.0]), "labels": np.array([3, 4])}
    c = compare_outputs(ref, {"labels": np.array([3, 4]), "logits": np.array([1.0, 2.0 + 1e-6])})
    assert isinstance(c, Comparison)
    assert c.passed
    assert [t.name for t in c.tensors] == ["logits", "labels"]  # the reference's order
    assert c.failed == []
    assert (c.rtol, c.atol) == (1e-3, 1e-5)


def test_compare_outputs_missing_on_either_side() -> None:
    ref = {"a": np.ones(2), "b": np.ones((2, 3))}
    cand = {"a": np.ones(2), "c": np.ones(4)}
    c = compare_outputs(ref, cand, rtol=0.0, atol=0.0)
    assert not c.passed
    by_name = {t.name: t for t in c.tensors}
    assert [t.name for t in c.tensors] == ["a", "b", "c"]
    assert by_name["a"].passed
    assert by_name["b"].note == "missing from candidate"
    assert (by_name["b"].reference_shape, by_name["b"].candidate_shape) == ((2, 3), None)
    assert by_name["c"].note == "missing from reference"
    assert (by_name["c"].reference_shape, by_name["c"].candidate_shape) == (None, (4,))
    assert [t.name for t in c.failed] == ["b", "c"]


def test_one_failing_output_fails_the_comparison() -> None:
    c = compare_outputs({"a": np.ones(3), "b": np.ones(3)}, {"a": np.ones(3), "b": np.array([1.0, 1.0, 2.0])})
    assert not c.passed
    assert [t.name for t in c.failed] == ["b"]


def test_nothing_to_compare_does_not_pass() -> None:
    assert not compare_outputs({}, {}).passed


def test_tolerances_are_passed_through() -> None:
    ref, cand = {"x": np.array([1.0])}, {"x": np.array([1.5])}
    assert not compare_outputs(ref, cand).passed
    loose = compare_outputs(ref, cand, rtol=0.0, atol=0.5)
    assert loose.passed and (loose.rtol, loose.atol) == (0.0, 0.5)


def test_to_dict_is_plain_json() -> None:
    ref = {"a": np.array([[1.0, 2.0]], np.float32), "b": np.array([1, 2]), "gone": np.zeros(1)}
    cand = {"a": np.array([[1.0, 3.0]], np.float32), "b": np.array([1, 2])}
    d = compare_outputs(ref, cand, rtol=0.0, atol=0.1).to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert d["passed"] is False and d["rtol"] == 0.0 and d["atol"] == 0.1
    a, b, gone = d["outputs"]
    assert a["name"] == "a" and a["reference_shape"] == [1, 2] and a["max_abs_error"] == 1.0
    assert a["outside_tolerance_pct"] == 50.0 and a["passed"] is False
    assert b["passed"] is True
    assert gone["candidate_shape"] is None and gone["note"] == "missing from candidate"
