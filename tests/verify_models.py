"""torchvision detectors with their own random initialisation, as model specs for the ``verify`` verdict tests
(``tests/verify_models.py:ssd300``).

* ``ssd300`` – ssd300_vgg16 as torchvision initialises it: every one of its 200 kept boxes scores the same, so which
  200 of the tied boxes survive the top-k is decided by float noise;
* ``maskrcnn`` – maskrcnn_resnet50_fpn resizing to 320 inside (torchvision's default is 800: the same architecture
  at 1/6 of the work on a CPU); with random weights it draws boxes 0.01 px wide.
"""

from __future__ import annotations

import torch
from torchvision.models import detection


def ssd300() -> torch.nn.Module:
    torch.manual_seed(0)
    return detection.ssd300_vgg16(weights=None, weights_backbone=None)


def maskrcnn() -> torch.nn.Module:
    torch.manual_seed(0)
    return detection.maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, min_size=320, max_size=320)
