"""Real torchvision models for the task tests (and the pictures in docs/tasks.md), with random weights that give
distinct answers.

torchvision's own initialisation of an untrained detector scores every box alike (ssdlite: 1/91 for every class of
every box; retinanet: ~0.01, below its own 0.05 threshold), so which boxes survive would be decided by ties; an
untrained deeplab labels every pixel with one class. These builders re-draw some weights (seeded) so that the answers
differ from box to box and pixel to pixel. ``retinanet`` also resizes to 320 inside (torchvision's default is 800):
the same architecture at 1/6 of the work on a CPU. Use them as model specs: ``tests/task_models.py:ssdlite``.
"""

from __future__ import annotations

import torch
from torchvision.models import detection, segmentation


def he_init(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Every convolution drawn from N(0, 2 / fan_in): activations keep their scale through the untrained network."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                fan_in = module.weight[0].numel()
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * (2 / fan_in) ** 0.5)
    return model


def ssdlite() -> torch.nn.Module:
    """ssdlite320_mobilenet_v3_large with He-initialised convolutions."""
    return he_init(detection.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None))


def deeplab() -> torch.nn.Module:
    """deeplabv3_mobilenet_v3_large with He-initialised convolutions."""
    return he_init(segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None))


def retinanet() -> torch.nn.Module:
    """retinanet_resnet50_fpn at 320 pixels whose class logits vary around -2 instead of sitting at -4.6."""
    model = detection.retinanet_resnet50_fpn(weights=None, weights_backbone=None, min_size=320, max_size=320)
    logits = model.head.classification_head.cls_logits
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        logits.weight.copy_(torch.randn(logits.weight.shape, generator=generator) * 0.05)
        logits.bias.fill_(-2.0)
    return model
