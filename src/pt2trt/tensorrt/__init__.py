"""TensorRT: versions and targets, build plans, engine builds, engine metadata.

Everything that decides *what* to build (``versions``, ``plan``, ``metadata``) runs without TensorRT or a GPU;
only ``build`` and the runner in :mod:`pt2trt.backends.tensorrt` import ``tensorrt``, and only when they run.
"""
