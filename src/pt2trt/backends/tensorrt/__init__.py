"""TensorRT, all of it: versions and targets, profiles, build plans, the lint, engine builds, metadata, inspection,
the runner, its output allocator and its timing.

Everything that decides *what* to build (``versions``, ``profiles``, ``plan``, ``precision``, ``lint``,
``metadata``) runs without TensorRT or a GPU; ``build``, ``runner``, ``outputs``, ``progress`` and ``timing``
import ``tensorrt`` (and CUDA through torch) only when they run.
"""
