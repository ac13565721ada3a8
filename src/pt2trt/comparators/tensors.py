"""Element-wise comparison of named tensors with error statistics.

A candidate element is within tolerance when ``|candidate - reference| <= atol + rtol * |reference|`` (the rule of
``numpy.allclose`` with the reference on the right). Infinities and NaNs only match the same value on the other
side. Integer outputs (indices, labels, counts) must match exactly, like booleans; their error statistics are
still reported. Empty tensors, shape mismatches and missing outputs are results with a reason, never exceptions.
The maximum relative error leaves out elements whose reference is ~0 at the tensor's scale (:data:`REL_FLOOR`): it is
None ("—" in tables) when every element is (docs/comparison.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from pt2trt.settings import Tolerance

_DEFAULT = Tolerance()


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
    scaled: bool = False  # atol grew with each output's scale (see scaled_atol)
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
            "scaled": self.scaled,
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
    # 0-d arrays (scalar outputs) become 1-element vectors so that masks can be assigned
    r = ref.astype(np.float64).reshape(-1)
    c = cand.astype(np.float64).reshape(-1)
    nan_r, nan_c = np.isnan(r), np.isnan(c)
    same = (r == c) | (nan_r & nan_c)  # includes equal infinities, whose difference would be NaN
    with np.errstate(invalid="ignore"):
        diff = np.abs(c - r)
    diff[same] = 0.0
    valid = ~np.isnan(diff)  # NaN only where exactly one side is NaN; inf where the sides differ by infinity
    if _is_integer(ref) and _is_integer(cand):
        # indices, labels, counts: an off-by-one is a wrong answer, not a rounding error
        within = ref.reshape(-1) == cand.reshape(-1)
        result.note = "compared exactly"
    else:
        tol = atol + rtol * np.abs(r)
        # a non-finite value only matches itself: without this, a reference inf would allow any candidate
        within = same | ((diff <= tol) & np.isfinite(r) & np.isfinite(c))
    result.max_abs_error = float(diff[valid].max()) if valid.any() else float("inf")
    result.mean_abs_error = float(diff[valid].mean()) if valid.any() else float("inf")
    result.max_rel_error = _max_rel_error(r, diff, valid)
    result.cosine_similarity = _cosine(r, c)  # over the pairs that are finite on both sides
    result.outside_tolerance_pct = float(100.0 * (1.0 - within.mean()))
    result.passed = bool(within.all())
    notes = [result.note] if result.note else []
    if nan_r.any() or nan_c.any():
        notes.append(f"NaN: reference {int(nan_r.sum())}, candidate {int(nan_c.sum())}")
    inf_r, inf_c = np.isinf(r), np.isinf(c)
    if (inf_r != inf_c).any() or (inf_r & inf_c & ~same).any():
        notes.append(f"inf: reference {int(inf_r.sum())}, candidate {int(inf_c.sum())}")
    result.note = "; ".join(notes)
    return result


def compare_outputs(
    reference: Mapping[str, np.ndarray],
    candidate: Mapping[str, np.ndarray],
    *,
    rtol: float = _DEFAULT.rtol,
    atol: float = _DEFAULT.atol,
    scaled: bool = False,
) -> Comparison:
    """Compare every output by name, in the reference's order; outputs missing on one side fail with a note.

    The default tolerance is :class:`pt2trt.settings.Tolerance`'s. With ``scaled``, each output's absolute tolerance
    is ``atol + rtol * rms(reference)`` (:func:`scaled_atol`, the rule of ``verify`` and ``debug layers``).
    """
    comparison = Comparison(rtol=rtol, atol=atol, scaled=scaled)
    for name, ref in reference.items():
        if name not in candidate:
            comparison.tensors.append(
                TensorComparison(name, False, tuple(np.shape(ref)), None, note="missing from candidate")
            )
            continue
        limit = scaled_atol(ref, rtol, atol) if scaled else atol
        comparison.tensors.append(compare_tensors(name, ref, candidate[name], rtol=rtol, atol=limit))
    for name, cand in candidate.items():
        if name not in reference:
            comparison.tensors.append(
                TensorComparison(name, False, None, tuple(np.shape(cand)), note="missing from reference")
            )
    return comparison


#: A failing output whose values still point the same way as the reference's (cosine at least this) with few
#: elements outside tolerance (at most NOISE_OUTSIDE_PCT) looks like float noise, not like a wrong computation.
NOISE_COSINE = 0.9999
NOISE_OUTSIDE_PCT = 1.0


def diagnose(t: TensorComparison) -> str:
    """What a failing output's statistics say: ``structure`` (shapes, missing), ``non-finite`` (NaN/inf where the
    other side is finite), ``noise`` (a few elements just past tolerance, cosine ~1) or ``error``; ``ok`` if passed."""
    if t.passed:
        return "ok"
    if t.reference_shape is None or t.candidate_shape is None or t.reference_shape != t.candidate_shape:
        return "structure"
    if "NaN" in t.note or "inf:" in t.note:
        return "non-finite"
    if "compared exactly" in t.note:
        return "error"
    cosine, outside = t.cosine_similarity, t.outside_tolerance_pct
    if cosine is not None and outside is not None and cosine >= NOISE_COSINE and outside <= NOISE_OUTSIDE_PCT:
        return "noise"
    return "error"


def scaled_atol(reference: np.ndarray, rtol: float, atol: float) -> float:
    """``atol + rtol * rms(reference)`` over the finite elements (``atol`` for empty or non-float tensors).

    An element then passes when ``|c - r| <= atol + rtol * (rms(r) + |r|)``: float32 rounding leaves errors in
    proportion to the whole tensor's magnitude, not to each element's (docs/comparison.md).
    """
    ref = np.asarray(reference)
    if ref.size == 0 or ref.dtype.kind not in "fc":
        return atol
    values = ref.ravel()
    # float64 accumulation of the squares, with einsum-free numpy sums (BLAS threads crawl on a busy machine)
    square_sum = float(np.square(values, dtype=np.float64).sum())
    if not np.isfinite(square_sum):
        finite = values[np.isfinite(values)].astype(np.float64)
        if finite.size == 0:
            return atol
        return atol + rtol * float(np.sqrt(np.mean(np.square(finite))))
    return atol + rtol * float(np.sqrt(square_sum / values.size))


#: Relative error is measured where ``|reference| >= REL_FLOOR * max|reference|``: below that the reference is ~0 at
#: the tensor's own scale (a logit of 1e-30 beside logits of 10) and ``diff / |reference|`` says nothing (6e+28).
REL_FLOOR = 1e-3


def _max_rel_error(r: np.ndarray, diff: np.ndarray, valid: np.ndarray) -> float | None:
    """The largest ``diff / |reference|`` where the reference is not ~0 relative to the tensor's scale (see
    :data:`REL_FLOOR`); None when no element qualifies (an all-zero reference): atol judges those elements."""
    finite = valid & np.isfinite(r)
    if not finite.any():
        return None
    magnitude = np.abs(r)
    scale = float(magnitude[finite].max())
    rel = finite & (magnitude > 0) & (magnitude >= REL_FLOOR * scale)
    return float((diff[rel] / magnitude[rel]).max()) if rel.any() else None


def _cosine(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cosine similarity over the pairs finite on both sides; None when there are none."""
    a, b = a.ravel(), b.ravel()
    finite = np.isfinite(a) & np.isfinite(b)
    a, b = a[finite], b[finite]
    if a.size == 0:
        return None
    # einsum, not BLAS dot/norm: BLAS threads stall on a busy machine (15 ms instead of 0.07 ms per call)
    na, nb = np.sqrt(np.einsum("i,i->", a, a)), np.sqrt(np.einsum("i,i->", b, b))
    if na == 0.0 and nb == 0.0:
        return 1.0
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(np.einsum("i,i->", a, b) / (na * nb))


def _is_integer(a: np.ndarray) -> bool:
    return np.issubdtype(a.dtype, np.integer)


def _is_numeric(a: np.ndarray) -> bool:
    return np.issubdtype(a.dtype, np.number) or a.dtype.name == "bfloat16"


def _shape(a: np.ndarray) -> str:
    return "x".join(map(str, a.shape)) or "scalar"
