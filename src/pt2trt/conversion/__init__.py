"""``convert``: the whole job, each step a plain call of its own API, recorded for the report.

import pt2trt.conversion
result = pt2trt.conversion.convert("torchvision:resnet18", [pt2trt.parse_input("input:1x3x224x224")], "out/r18")
print(result.verdict(), result.report_html)
"""

from __future__ import annotations

from pt2trt.conversion.convert import ARTIFACTS, PRECISIONS, convert, plan_steps
from pt2trt.conversion.record import ConvertOptions, ConvertResult, StepRecord

__all__ = ["ARTIFACTS", "PRECISIONS", "ConvertOptions", "ConvertResult", "StepRecord", "convert", "plan_steps"]
