"""Element-wise comparison of named tensors with error statistics.

A candidate element is within tolerance when ``|candidate - reference| <= atol + rtol * |reference|`` (the rule of
``numpy.allclose`` with the reference on the right). Empty tensors, shape mismatches and missing outputs are
results with a reason, never exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass
class TensorComparison:
    """How one candidate tensor differs from its reference."""

    name: str
    passed: bool
    reference_shape: tuple[int, ...] | None
    candidate_shape: tuple[int, ...] | None
    dtype: str = ""
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    mean_abs_error: float | None = None
    cosine_similarity: float | None = None
    outside_tolerance_pct: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["reference_shape"] = list(self.reference_shape) if self.reference_shape is not None else None
        d["candidate_shape"] = list(self.candidate_shape) if self.candidate_shape is not None else None
        return d


@dataclass
class Comparison:
    """All outputs of one run compared with the reference run."""

    rtol: float
    atol: float
    tensors: list[TensorComparison] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.tensors) and all(t.passed for t in self.tensors)

    @property
    def failed(self) -> list[TensorComparison]:
        return [t for t in self.tensors if not t.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "rtol": self.rtol,
            "atol": self.atol,
            "outputs": [t.to_dict() for t in self.tensors],
        }


def compare_tensors(
    name: str, reference: np.ndarray, candidate: np.ndarray, *, rtol: float, atol: float
) -> TensorComparison:
    """Error statistics of ``candidate`` against ``reference``."""
    ref, cand = np.asarray(reference), np.asarray(candidate)
    result = TensorComparison(name, False, tuple(ref.shape), tuple(cand.shape), dtype=str(cand.dtype))
    if ref.shape != cand.shape:
        result.note = f"shape mismatch: reference {_shape(ref)} vs candidate {_shape(cand)}"
        return result
    if ref.size == 0:
        result.passed = True
        result.note = "empty on both sides"
        return result
    if ref.dtype == bool or cand.dtype == bool or not _is_numeric(ref) or not _is_numeric(cand):
        equal = ref == cand
        result.outside_tolerance_pct = float(100.0 * (1.0 - equal.mean()))
        result.passed = bool(equal.all())
        result.note = "compared exactly"
        return result
    r = ref.astype(np.float64)
    c = cand.astype(np.float64)
    nan_r, nan_c = np.isnan(r), np.isnan(c)
    both_nan = nan_r & nan_c
    diff = np.abs(c - r)
    diff[both_nan] = 0.0
    tol = atol + rtol * np.abs(r)
    within = diff <= tol  # NaN differences compare False, so a NaN on one side counts as outside
    within |= both_nan
    finite = np.isfinite(diff)
    result.max_abs_error = float(diff[finite].max()) if finite.any() else float("inf")
    result.mean_abs_error = float(diff[finite].mean()) if finite.any() else float("inf")
    nonzero = finite & (np.abs(r) > 0)  # relative error is undefined where the reference is 0: atol judges those
    result.max_rel_error = float((diff[nonzero] / np.abs(r[nonzero])).max()) if nonzero.any() else 0.0
    result.cosine_similarity = _cosine(r[~both_nan], c[~both_nan])
    result.outside_tolerance_pct = float(100.0 * (1.0 - within.mean()))
    result.passed = bool(within.all())
    if nan_r.any() or nan_c.any():
        result.note = f"NaN: reference {int(nan_r.sum())}, candidate {int(nan_c.sum())}"
    return result


def compare_outputs(
    reference: Mapping[str, np.ndarray],
    candidate: Mapping[str, np.ndarray],
    *,
    rtol: float = 1e-3,
    atol: float = 1e-5,
) -> Comparison:
    """Compare every output by name, in the reference's order; outputs missing on one side fail with a note."""
    comparison = Comparison(rtol=rtol, atol=atol)
    for name, ref in reference.items():
        if name not in candidate:
            comparison.tensors.append(
                TensorComparison(name, False, tuple(np.shape(ref)), None, note="missing from candidate")
            )
            continue
        comparison.tensors.append(compare_tensors(name, ref, candidate[name], rtol=rtol, atol=atol))
    for name, cand in candidate.items():
        if name not in reference:
            comparison.tensors.append(
                TensorComparison(name, False, None, tuple(np.shape(cand)), note="missing from reference")
            )
    return comparison


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel(), b.ravel()
    finite = np.isfinite(a) & np.isfinite(b)
    a, b = a[finite], b[finite]
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0 and nb == 0.0:
        return 1.0
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(np.dot(a, b) / (na * nb))


def _is_numeric(a: np.ndarray) -> bool:
    return np.issubdtype(a.dtype, np.number) or a.dtype.name == "bfloat16"


def _shape(a: np.ndarray) -> str:
    return "x".join(map(str, a.shape)) or "scalar"
