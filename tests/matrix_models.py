"""The models of the convert precision matrix (issue 24): torchvision detectors and segmenters with random
(He-initialised) weights at small input sizes, a classifier, and a YOLOv8n built from ultralytics' own yaml."""

from __future__ import annotations

import torch


def _he(model: torch.nn.Module) -> torch.nn.Module:
    from tests.task_models import he_init

    torch.manual_seed(0)
    return he_init(model).eval()


def mobilenet_v3_small() -> torch.nn.Module:
    import torchvision

    return _he(torchvision.models.mobilenet_v3_small(weights=None))


def ssdlite() -> torch.nn.Module:
    import torchvision

    model = torchvision.models.detection.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)
    return _he(model)


def fasterrcnn_mobilenet() -> torch.nn.Module:
    import torchvision

    detection = torchvision.models.detection
    model = detection.fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None)
    return _he(model)


def retinanet() -> torch.nn.Module:
    import torchvision

    model = torchvision.models.detection.retinanet_resnet50_fpn(
        weights=None, weights_backbone=None, min_size=320, max_size=320
    )
    return _he(model)


def lraspp() -> torch.nn.Module:
    import torchvision

    return _he(torchvision.models.segmentation.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None))


def deeplabv3_mobilenet() -> torch.nn.Module:
    import torchvision

    model = torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None)
    return _he(model)


class YoloV8n(torch.nn.Module):
    """ultralytics' DetectionModel from yolov8n.yaml (its own initialisation), raw head output [N, 84, anchors]."""

    def __init__(self) -> None:
        super().__init__()
        from ultralytics.nn.tasks import DetectionModel

        torch.manual_seed(0)
        self.model = DetectionModel("yolov8n.yaml", verbose=False).eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        return out[0] if isinstance(out, list | tuple) else out
