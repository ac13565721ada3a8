"""The settings of ``pt2trt export-openvino``: the IR's weight format and how the IR is checked against ONNX Runtime.

The check's default tolerance depends on what the IR holds (:data:`IR_TOLERANCES`), because OpenVINO and ONNX
Runtime compute a reduced-precision model differently even when both are right: FP16 weights are rounded once more,
and two INT8 engines round and requantize each layer in their own way. The figures were measured (docs/graph-tools.md,
"OpenVINO IR"): IR against ONNX Runtime, OpenVINO computing in f32, on the PaddleOCR text-direction classifier and text
detector that rapidocr_onnxruntime ships, on random inputs and on crops of a photographed page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pt2trt.settings.comparison import RunInputs, Tolerance

#: What the IR's weights hold -> the tolerance of its check. The worst measured error (scaled: |c - r| / (rms(r) +
#: |r|)) was 3e-5 absolute for FP32, 6.5e-3 scaled for FP16 (FP32 ONNX with compressed weights, or an FP16 ONNX) and
#: 0.17 scaled for INT8 (Q/DQ and dynamically quantized ONNX): each default leaves about a 1.5-3x margin.
IR_TOLERANCES: dict[str, Tolerance] = {
    "fp32": Tolerance(rtol=1e-3, atol=1e-4, scaled=False),
    "fp16": Tolerance(rtol=2e-2, atol=1e-3, scaled=True),
    "int8": Tolerance(rtol=0.25, atol=1e-2, scaled=True),
}


@dataclass(frozen=True)
class OpenVinoSettings:
    """``fp16``: store FP32 weights in FP16 (half the size); ``verify``: run the IR (OpenVINO, f32 inference) against
    ONNX Runtime before it is written; ``inputs``: the check's shapes (``--input``, needed for dynamic axes without a
    recorded shape), data files (``--data``, real inputs instead of random ones) and seed; ``rtol``/``atol``: put
    over the weight format's tolerance (:data:`IR_TOLERANCES`), ``None`` keeps it."""

    fp16: bool = False
    verify: bool = True
    inputs: RunInputs = field(default_factory=RunInputs)
    rtol: float | None = None
    atol: float | None = None

    def tolerance(self, weights: str) -> Tolerance:
        """The check's tolerance for an IR whose weights are ``weights`` (``fp32``, ``fp16``, ``int8``)."""
        return Tolerance.of(IR_TOLERANCES[weights], self.rtol, self.atol)
