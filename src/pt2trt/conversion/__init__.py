"""``convert``: the whole job, each step a plain call of its own API, recorded for the report.

import pt2trt.conversion
from pt2trt.settings import ConvertSettings
from pt2trt.shapes import parse_input
settings = ConvertSettings(inputs=(parse_input("input:1x3x224x224"),))
result = pt2trt.conversion.convert("torchvision:resnet18", "out/r18", settings)
print(result.verdict(), result.report_html)
"""

from __future__ import annotations

from pt2trt.conversion.convert import ARTIFACTS, convert, plan_steps
from pt2trt.conversion.record import ConvertResult, ConvertResults, StepRecord

__all__ = ["ARTIFACTS", "ConvertResult", "ConvertResults", "StepRecord", "convert", "plan_steps"]
