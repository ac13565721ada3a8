"""Write the mixed FP16 model: every node in FP16 except the ones kept in FP32, with one Cast at each boundary.

The rules, node by node of the top-level graph:

* a node computes in FP16 unless it is kept (the analysis of :mod:`pt2trt.precision.fp16`, or an op that must stay
  FP32: control flow, whose subgraphs are left untouched, and ops ONNX defines for float32 only); a node touching no
  float tensor is left as it is;
* a float tensor lives in the precision of its producer; a consumer computing in the other precision reads it through
  one shared ``Cast`` (``NAME__fp16`` / ``NAME__fp32``) placed before its first such consumer;
* inputs ONNX types as float32 whatever the node computes in (``Resize``'s roi and scales) are always fed FP32;
* weights and ``Constant`` values are stored in the precision of their consumers (FP16 values saturate at ±65504; a
  weight read on both sides is stored twice);
* the subgraphs of a kept ``If``/``Loop``/``Scan`` read outer-scope tensors by name: the FP16 ones are cast to FP32
  before the node and renamed inside, so that the subgraphs and the tensors they exchange stay float32;
* graph inputs and outputs keep float32 (a final Cast for an output computed in FP16) unless ``fp16_io``, which makes
  them FP16 (a kept node's output is then cast down).

onnxconverter-common's ``convert_float_to_float16`` (which this replaces) crashes when a graph output listed in
``value_info`` comes from a kept node, writes an FP16 output for a kept final node despite ``keep_io_types``, and leaves
``If`` branches float32 while their outer tensors turn FP16; ONNX Runtime's transformers copy writes duplicate node
names on torchvision's detectors. The tests hold this module to each of those graphs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx

FLOAT, FLOAT16 = 1, 10
#: ops that stay FP32 whatever the analysis says, with the reason shown in the report
FP32_OPS = {
    "If": "control flow: its subgraphs and the tensors they exchange stay FP32",
    "Loop": "control flow: its subgraphs and the tensors they exchange stay FP32",
    "Scan": "control flow: its subgraphs and the tensors they exchange stay FP32",
    "NonMaxSuppression": "ONNX defines NonMaxSuppression for float32 boxes and scores only",
    "Range": "ONNX's Range has no float16",
    "RandomNormal": "random generator: float32 by its dtype attribute",
    "RandomUniform": "random generator: float32 by its dtype attribute",
    "RandomNormalLike": "random generator",
    "RandomUniformLike": "random generator",
    "Multinomial": "random generator",
    "Bernoulli": "random generator",
}
#: input slots ONNX types as float32 (or any float) whatever the node computes in: fed FP32
FP32_INPUTS = {"Resize": {1, 2}, "Upsample": {1}}
#: ops that read only their input's shape or type: any precision will do, no Cast
ANY_TYPE_OPS = {"Shape", "Size"}
SUFFIX = {FLOAT16: "__fp16", FLOAT: "__fp32"}


def fp32_op_reason(node: onnx.NodeProto) -> str | None:
    """Why ``node`` must stay FP32 whatever its values (None when it may run in FP16)."""
    if node.domain not in ("", "ai.onnx"):
        return f"op of domain {node.domain}: its types are its own"
    return FP32_OPS.get(node.op_type)


def write_fp16(model: onnx.ModelProto, keep: Collection[int], *, fp16_io: bool = False) -> onnx.ModelProto:
    """A copy of ``model`` with the top-level nodes not in ``keep`` (indices) computing in FP16."""
    import onnx

    out = onnx.ModelProto()
    out.CopyFrom(model)
    writer = _Writer(out, set(keep), fp16_io)
    writer.run()
    return out


class _Writer:
    def __init__(self, model: onnx.ModelProto, keep: set[int], fp16_io: bool) -> None:
        import onnx

        self.model, self.graph, self.fp16_io = model, model.graph, fp16_io
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
        self.infos: dict[str, onnx.ValueInfoProto] = {}
        for value in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]:
            self.infos.setdefault(value.name, value)
        self.types: dict[str, int] = {n: v.type.tensor_type.elem_type for n, v in self.infos.items()}
        self.initializers = {i.name: i for i in self.graph.initializer}
        self.types.update({n: i.data_type for n, i in self.initializers.items()})
        for node in self.graph.node:
            if node.op_type == "Constant":
                value = next((a.t for a in node.attribute if a.name == "value"), None)
                if value is not None:
                    self.types[node.output[0]] = value.data_type
        self.half = [i not in keep and fp32_op_reason(n) is None for i, n in enumerate(self.graph.node)]
        self.home: dict[str, int] = {}  # float tensor -> the precision it is stored in
        self.versions: dict[tuple[str, int], str] = {}  # (tensor, precision) -> the name holding it there
        self.new_infos: dict[str, int] = {}  # new tensor -> its precision
        self.shape_of: dict[str, str] = {}  # new tensor -> the tensor whose shape it has
        self.constant_done: set[str] = set()

    def is_float(self, name: str) -> bool:
        return bool(name) and self.types.get(name) == FLOAT

    def run(self) -> None:
        self._homes()
        self._constants()
        nodes: list[onnx.NodeProto] = []
        for i, node in enumerate(self.graph.node):
            if node.op_type == "Constant" and node.output[0] in self.constant_done:
                nodes.append(node)
                continue
            casts = self._inputs(node, self.half[i])
            if not self.half[i]:
                casts += self._outer_scope(node)
            nodes.extend(casts)
            if self.half[i] and node.op_type == "Cast":
                to = next(a for a in node.attribute if a.name == "to")
                if to.i == FLOAT:
                    to.i = FLOAT16
            nodes.append(node)
        del self.graph.node[:]
        self.graph.node.extend(nodes)
        self.graph.node.extend(self._outputs())
        self._graph_inputs()
        self._value_info()

    # -- where each float tensor lives --------------------------------------------------------------------------
    def _homes(self) -> None:
        for value in self.graph.input:
            if self.is_float(value.name) and value.name not in self.initializers:
                self.home[value.name] = FLOAT16 if self.fp16_io else FLOAT
        for i, node in enumerate(self.graph.node):
            if node.op_type == "Constant":
                continue  # stored in the precision of its consumers (_constants)
            writes_half = self.half[i] and (node.op_type != "Cast" or _cast_to(node) == FLOAT)
            for name in node.output:
                if self.is_float(name) or (node.op_type == "Cast" and name and _cast_to(node) == FLOAT):
                    self.types.setdefault(name, FLOAT)
                    self.home[name] = FLOAT16 if writes_half else FLOAT

    def _constants(self) -> None:
        """Weights and Constant values in the precision of their consumers (both, when read on both sides)."""
        from onnx import numpy_helper

        wanted: dict[str, set[int]] = {}
        for i, node in enumerate(self.graph.node):
            for slot, name in enumerate(node.input):
                if self.is_float(name) and name not in self.home:
                    wanted.setdefault(name, set()).add(self._wanted(node, slot, self.half[i]))
        for node in self.graph.node:  # constants read inside subgraphs are read in FP32
            for name in _outer_names(node):
                if self.is_float(name) and name not in self.home:
                    wanted.setdefault(name, set()).add(FLOAT)
        outputs = {o.name for o in self.graph.output}
        producers = {n.output[0]: n for n in self.graph.node if n.op_type == "Constant"}
        for name, precisions in wanted.items():
            if name in outputs:
                precisions = precisions | {FLOAT16 if self.fp16_io else FLOAT}
            tensor = self.initializers.get(name)
            if tensor is None and name in producers:
                tensor = next(a.t for a in producers[name].attribute if a.name == "value")
            if tensor is None:  # a float tensor of unknown origin: left as it is
                self.home[name] = FLOAT
                continue
            if FLOAT16 in precisions:
                half = numpy_helper.from_array(_to_half(numpy_helper.to_array(tensor)), name)
                if precisions == {FLOAT16}:
                    tensor.CopyFrom(half)
                    self.home[name] = FLOAT16
                    self.types[name] = FLOAT
                else:
                    half.name = name + SUFFIX[FLOAT16]
                    self.graph.initializer.append(half)
                    self.versions[(name, FLOAT16)] = half.name
                    self.home[name] = FLOAT
            else:
                self.home[name] = FLOAT
            self.versions[(name, self.home[name])] = name
            self.constant_done.add(name)

    def _wanted(self, node: onnx.NodeProto, slot: int, half: bool) -> int:
        if not half or slot in FP32_INPUTS.get(node.op_type, ()):
            return FLOAT
        if node.op_type in ANY_TYPE_OPS:
            return -1  # no preference
        return FLOAT16

    # -- the Casts ------------------------------------------------------------------------------------------------
    def _version(self, name: str, precision: int, casts: list[onnx.NodeProto]) -> str:
        home = self.home.get(name, FLOAT)
        if precision in (-1, home):
            return name
        key = (name, precision)
        if key not in self.versions:
            from onnx import helper

            target = name + SUFFIX[precision]
            casts.append(helper.make_node("Cast", [name], [target], name=target, to=precision))
            self.versions[key] = target
            self.new_infos[target] = precision
            self.shape_of[target] = name
        return self.versions[key]

    def _inputs(self, node: onnx.NodeProto, half: bool) -> list[onnx.NodeProto]:
        casts: list[onnx.NodeProto] = []
        for slot, name in enumerate(node.input):
            if self.is_float(name) and name in self.home:
                node.input[slot] = self._version(name, self._wanted(node, slot, half), casts)
        return casts

    def _outer_scope(self, node: onnx.NodeProto) -> list[onnx.NodeProto]:
        """FP32 copies of the FP16 outer tensors a kept node's subgraphs read, renamed inside them."""
        casts: list[onnx.NodeProto] = []
        renames = {}
        for name in _outer_names(node):
            if self.is_float(name) and self.home.get(name) == FLOAT16:
                renames[name] = self._version(name, FLOAT, casts)
            elif (name, FLOAT) in self.versions and self.versions[(name, FLOAT)] != name:
                renames[name] = self.versions[(name, FLOAT)]
        if renames:
            for attr in node.attribute:
                for graph in [attr.g] if attr.HasField("g") else list(attr.graphs):
                    _rename_references(graph, renames)
        return casts

    def _outputs(self) -> list[onnx.NodeProto]:
        """Graph outputs in float32 (FP16 with ``fp16_io``): the tensor computed inside is renamed and cast."""
        from onnx import helper

        casts = []
        wanted = FLOAT16 if self.fp16_io else FLOAT
        for output in self.graph.output:
            name = output.name
            if not self.is_float(name) or self.home.get(name, FLOAT) == wanted:
                continue
            inner = name + SUFFIX[self.home[name]]
            for node in self.graph.node:
                node.input[:] = [inner if t == name else t for t in node.input]
                node.output[:] = [inner if t == name else t for t in node.output]
                for attr in node.attribute:
                    for graph in [attr.g] if attr.HasField("g") else list(attr.graphs):
                        _rename_references(graph, {name: inner})
            self.home[inner] = self.home[name]
            self.types[inner] = FLOAT
            self.new_infos[inner] = self.home[name]
            self.shape_of[inner] = name
            casts.append(helper.make_node("Cast", [inner], [name], name=name + "__output_cast", to=wanted))
            self.home[name] = wanted
        return casts

    def _graph_inputs(self) -> None:
        for value in [*self.graph.input, *self.graph.output]:
            if self.is_float(value.name) and value.name not in self.initializers:
                value.type.tensor_type.elem_type = self.home.get(value.name, FLOAT)

    def _value_info(self) -> None:
        """value_info with the types written: each float tensor in its precision, the Casts' outputs added."""
        import onnx

        io = {v.name for v in [*self.graph.input, *self.graph.output]}
        written: dict[str, onnx.ValueInfoProto] = {}
        for value in [*self.graph.value_info, *self.infos.values()]:  # shape inference fills what is missing
            if value.name in io or value.name in written:
                continue
            copy = onnx.ValueInfoProto()
            copy.CopyFrom(value)
            if value.name in self.home:
                copy.type.tensor_type.elem_type = self.home[value.name]
            written[value.name] = copy
        for name, precision in self.new_infos.items():
            if name in io:
                continue
            copy = onnx.ValueInfoProto()
            source = self.infos.get(self.shape_of.get(name, name))
            if source is not None:
                copy.CopyFrom(source)
            copy.name = name
            copy.type.tensor_type.elem_type = precision
            written[name] = copy
        del self.graph.value_info[:]
        self.graph.value_info.extend(written.values())


def _cast_to(node: onnx.NodeProto) -> int:
    return next((a.i for a in node.attribute if a.name == "to"), 0)


def _to_half(values: np.ndarray) -> np.ndarray:
    """FP16 values, saturated at ±65504 (the analysis keeps the nodes reading larger weights in FP32)."""
    return np.clip(values, -65504.0, 65504.0).astype(np.float16)


def _subgraphs(node: onnx.NodeProto) -> Iterable[onnx.GraphProto]:
    for attr in node.attribute:
        if attr.HasField("g"):
            yield attr.g
        yield from attr.graphs


def _outer_names(node: onnx.NodeProto) -> set[str]:
    """Tensor names the subgraphs of ``node`` read from the enclosing scope."""
    found: set[str] = set()
    for graph in _subgraphs(node):
        found |= _free_names(graph)
    return found


def _free_names(graph: onnx.GraphProto) -> set[str]:
    defined = {v.name for v in graph.input} | {i.name for i in graph.initializer}
    free: set[str] = set()
    for node in graph.node:
        free |= {t for t in node.input if t and t not in defined}
        for sub in _subgraphs(node):
            free |= {t for t in _free_names(sub) if t not in defined}
        defined |= set(node.output)
    free |= {o.name for o in graph.output if o.name not in defined}
    return free


def _rename_references(graph: onnx.GraphProto, renames: dict[str, str]) -> None:
    """Rename the outer-scope names ``graph`` (and its nested subgraphs) reads; names it defines are left alone."""
    defined = {v.name for v in graph.input} | {i.name for i in graph.initializer}
    for node in graph.node:
        live = {k: v for k, v in renames.items() if k not in defined}
        node.input[:] = [live.get(t, t) for t in node.input]
        for sub in _subgraphs(node):
            _rename_references(sub, live)
        defined |= set(node.output)
    for output in graph.output:
        if output.name in renames and output.name not in defined:
            # a subgraph output that is an outer tensor: route it through an Identity to keep the output's name
            from onnx import helper

            graph.node.append(helper.make_node("Identity", [renames[output.name]], [output.name]))
