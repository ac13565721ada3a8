"""Classification: class scores per image -> probabilities (softmax when the output is logits) -> top-k."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.errors import Pt2trtError, UsageError
from pt2trt.imaging.preprocess import Transform
from pt2trt.settings.tasks import TaskSettings
from pt2trt.tasks.base import Labels, Outputs, Result, Task, describe_outputs, pick_output, value_range
from pt2trt.tasks.draw import color, text_panel

if TYPE_CHECKING:
    from PIL import Image


@dataclass
class Classification(Result):
    """Class probabilities of one image and its ``top_k`` best classes."""

    probabilities: np.ndarray
    from_logits: bool
    top_k: int = 5

    @property
    def top(self) -> list[tuple[int, float]]:
        k = min(self.top_k, self.probabilities.size)
        order = np.argsort(-self.probabilities, kind="stable")[:k]
        return [(int(i), float(self.probabilities[i])) for i in order]

    def to_dict(self, labels: Labels) -> dict[str, Any]:
        return {
            "top": [{"class": c, "label": labels(c), "score": round(p, 6)} for c, p in self.top],
            "softmax_applied": self.from_logits,
        }


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    z = x.astype(np.float64) - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def looks_like_probabilities(scores: np.ndarray) -> bool:
    """Every row in [0, 1] and summing to 1 (a softmax already inside the model)."""
    if scores.size == 0 or scores.min() < 0 or scores.max() > 1:
        return False
    return bool(np.allclose(scores.sum(axis=-1), 1.0, atol=1e-3))


class ClassifyTask(Task):
    """Top-k classes from an ``[N, classes]`` output (``[N, classes, 1, 1]`` works too)."""

    name = "classify"
    default_preset = "imagenet-classification"
    layouts = ("logits", "probabilities")
    result_type = Classification
    comparator = "pt2trt.comparators.tasks:compare_classifications"

    def __init__(self, top_k: int = 5, layout: str = "auto", output: str | None = None) -> None:
        super().__init__(layout)
        if top_k < 1:
            raise UsageError(f"--top-k must be at least 1, got {top_k}", "Pass --top-k 1 or more")
        self.top_k = top_k
        self.output = output

    @classmethod
    def from_settings(cls, settings: TaskSettings) -> ClassifyTask:
        return cls(settings.top_k, settings.layout, settings.output_name)

    def decode(self, outputs: Outputs, transforms: Sequence[Transform]) -> list[Result]:
        scores = self.scores(outputs, len(transforms))
        from_logits = self.layout == "logits" or (self.layout == "auto" and not looks_like_probabilities(scores))
        self.resolved_layout = "logits" if from_logits else "probabilities"
        self.class_count = int(scores.shape[1])
        self._sanity(scores, from_logits)
        probs = softmax(scores) if from_logits else scores.astype(np.float64)
        return [Classification(p, from_logits, self.top_k) for p in probs]

    def _sanity(self, scores: np.ndarray, from_logits: bool) -> None:
        low, high = value_range(scores)
        if not from_logits and (low < 0 or high > 1):
            self.warn(
                "probabilities-range",
                f"--layout probabilities, but the scores range from {low:.3g} to {high:.3g}, outside [0, 1]: "
                "they look like logits; pass --layout logits (or auto)",
            )
        elif from_logits and self.layout == "auto" and low >= 0 and high <= 1 and scores.shape[1] > 1:
            self.warn(
                "sigmoid-scores",
                "the scores are all in [0, 1] but do not sum to 1 (sigmoid outputs?): softmax applied; "
                "pass --layout probabilities to read them as they are",
            )

    def result_classes(self, result: Result) -> list[int]:
        return [c for c, _ in result.top] if isinstance(result, Classification) else []

    def scores(self, outputs: Outputs, count: int) -> np.ndarray:
        """The ``[N, classes]`` score matrix: the ``output`` given, else the one output shaped like it."""
        candidates = [n for n, a in outputs.items() if _as_matrix(np.asarray(a), count) is not None]
        if not candidates and self.output is None:
            raise Pt2trtError(
                f"no output looks like class scores [N, classes] for {count} image(s)",
                f"Outputs: {describe_outputs(outputs)}; is this a classification model?",
            )
        name = pick_output(outputs, self.output, candidates, "class scores [N, classes]", "")
        matrix = _as_matrix(np.asarray(outputs[name]), count)
        if matrix is None:
            raise Pt2trtError(
                f"output '{name}' {list(np.shape(outputs[name]))} is not [N, classes]",
                "Pick the class-scores output with --output-name NAME (`pt2trt inspect MODEL.onnx` lists them)",
            )
        return matrix

    def draw(self, image: Image.Image, result: Result, labels: Labels) -> Image.Image:
        """The top classes with their probabilities, top left."""
        assert isinstance(result, Classification)
        lines = [f"{labels(c)}  {p * 100:.1f}%" for c, p in result.top]
        text_panel(image, lines, [color(c) for c, _ in result.top], corner="top-left")
        return image

    def options(self) -> dict[str, Any]:
        return {**super().options(), "top_k": self.top_k}


def _as_matrix(array: np.ndarray, count: int) -> np.ndarray | None:
    if not np.issubdtype(array.dtype, np.floating) or array.ndim < 1:
        return None
    if array.ndim == 1 and count == 1:
        array = array[None]
    if array.ndim > 2 and all(d == 1 for d in array.shape[2:]):
        array = array.reshape(array.shape[:2])
    if array.ndim != 2 or array.shape[0] != count or array.shape[1] < 1:
        return None
    return array
