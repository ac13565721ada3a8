"""TensorRT's real Python API on CPU: the registry's bindings wheels imported over stub native libraries.

``releases``: which TensorRT releases, their wheels (fetched from the package registry into a per-user cache) and the
stub libraries compiled for them at test time. ``source_uses`` (with ``program`` and ``uses``): what pt2trt's code
touches in TensorRT, read from its source by AST, with the version gates around each use. ``harness`` runs ``probe``
in a subprocess per release: it imports the real module and holds those uses (``resolve``, reading the pybind11
signatures with ``pybind``), our trampoline subclasses and Polygraphy's TensorRT loaders against it (``shadow``:
objects specced by the real classes). ``ours`` holds the pt2trt names the probe calls, in one place. Nothing of
NVIDIA's is committed: wheels come from the registry, stubs are generated from the extension's own undefined symbols.
"""
