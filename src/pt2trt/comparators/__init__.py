"""Comparators: take two result sets (name -> array) and return plain result objects."""

from pt2trt.comparators.tensors import Comparison, TensorComparison, compare_outputs, compare_tensors

__all__ = ["Comparison", "TensorComparison", "compare_outputs", "compare_tensors"]
