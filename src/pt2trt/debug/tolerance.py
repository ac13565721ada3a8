"""The tolerance rule of ``debug layers``: element-wise, with the absolute part scaled to the tensor's magnitude.

``verify`` judges each output element by ``|c - r| <= atol + rtol * |r|``. Inside a deep network that rule flags
healthy layers: reordered float32 sums leave absolute errors proportional to the *tensor's* scale, so a lone
element near zero in a layer whose values are of order 1 fails (healthy resnet50: ~0.001 % of the elements of
some layers, 2e-5 off). ``debug layers`` therefore adds ``rtol`` times the reference's root mean square to
``atol``: an element passes when ``|c - r| <= atol + rtol * (rms(r) + |r|)``. A layer that really computes
something else (a wrong weight, a 1 % different activation) still fails on most of its elements.
"""

from __future__ import annotations

import numpy as np

from pt2trt.comparators.tensors import TensorComparison, compare_tensors, scaled_atol


def compare_layer(
    name: str, reference: np.ndarray, candidate: np.ndarray, *, rtol: float, atol: float
) -> TensorComparison:
    """``compare_tensors`` with the tensor-scaled absolute tolerance of this module."""
    return compare_tensors(name, reference, candidate, rtol=rtol, atol=scaled_atol(reference, rtol, atol))
