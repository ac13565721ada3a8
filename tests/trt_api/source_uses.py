"""What pt2trt's code touches in TensorRT and in Polygraphy's TensorRT loaders, read from the source by AST.

Every module under ``src/pt2trt`` is read (nothing is listed by hand, so files may move). A small abstract
interpreter follows the ``tensorrt`` module through the code: ``import tensorrt`` (any alias), ``from tensorrt import
X``, a call of one of our functions that returns it (``trt = import_tensorrt()``), and a parameter named ``trt`` (the
convention of pt2trt's TensorRT code). Every attribute and call made on it, and on what it returns
(``trt.Runtime(logger).deserialize_cuda_engine(data).create_execution_context().set_input_shape(...)``), is a
*use*: a chain of steps from the module, with the number of positional arguments and the keyword names of each call.
Values flow through local variables, tuple assignments, ``self.X`` attributes (per class, across its methods and to
other classes that hold an instance), and the return values of our own functions and methods.

Each use carries the *gates* it sits under, read from the conditions around it:

* a :class:`~pt2trt.backends.tensorrt.versions.Target` boolean field (``plan.target.int8_calibration``, ``not
  target.strongly_typed_only``), in an ``if`` or as an early exit (``if not X: raise``);
* ``at_least(trt.__version__, "10")``;
* ``getattr(trt, "Name", None)``: an optional member; code after ``if x is None: return`` may use ``x``
  (a use of an optional member without such a check is reported as unchecked);
* a row of a module-level table with a version in it (``HARDWARE_LEVELS[key][0]`` where the row is
  ``("SAME_COMPUTE_CAPABILITY", "10.9")``): the member is used only from that version on.

Classes deriving from a TensorRT class (trampolines: output allocator, progress monitor) are recorded with the
methods they and their own bases define; calls of ``polygraphy.backend.trt`` exports with their keywords (including
the keys of a ``**kwargs`` dict built in the function).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.trt_api.program import (
    Bound,
    Cands,
    Const,
    DictKeys,
    Func,
    Instance,
    Klass,
    ModuleInfo,
    Poly,
    Program,
    Rows,
    Seq,
    Trt,
)
from tests.trt_api.uses import Gate, PolyCall, SourceUses, Step, Subclass, Use, chain_text

_VERSION = re.compile(r"^\d+\.\d+(\.\d+)*$")


# -- the interpreter ---------------------------------------------------------------------------------------------------
class Frame:
    def __init__(self, module: ModuleInfo, env: dict[str, Any], klass: Klass | None, gates: tuple[Gate, ...]) -> None:
        self.module, self.env, self.klass, self.gates = module, env, klass, gates
        self.returns: list[Any] = []


class Collector:
    """Walks every function and method of the program, recording uses; ``self.X`` values are shared per class."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.out = SourceUses()
        self.attrs: dict[Klass, dict[str, Any]] = {}
        self.stack: set[tuple[int, str]] = set()
        self.memo: dict[tuple[int, str], Any] = {}

    # -- driver ------------------------------------------------------------------------------------------------------
    def run(self) -> SourceUses:
        for _ in range(3):  # self attributes set in one method are read in another: let them settle
            self.memo.clear()
            for module in self.program.modules.values():
                self._module(module)
        return self.out

    def _module(self, module: ModuleInfo) -> None:
        frame = Frame(module, {}, None, ())
        for node in module.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.call_function(Func(module, node), [], {})
            elif isinstance(node, ast.ClassDef):
                self._stmt_ClassDef(node, frame, bind=False)

    @staticmethod
    def _methods(klass: Klass) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
        for node in klass.node.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield node

    # -- calls of our functions ----------------------------------------------------------------------------------------
    def call_function(self, func: Func, args: list[Any], kwargs: dict[str, Any], *, klass: Klass | None = None) -> Any:
        node = func.node
        params = [a.arg for a in [*node.args.posonlyargs, *node.args.args]]
        env: dict[str, Any] = dict(func.env or {})
        for name in params + [a.arg for a in node.args.kwonlyargs]:
            env[name] = Trt(()) if name == "trt" else None
        for name, value in zip(params, args):
            if value is not None:
                env[name] = value
        for name, value in kwargs.items():
            if value is not None and name in env:
                env[name] = value
        key = (id(node), repr(sorted((k, _key(v)) for k, v in env.items())))
        if key in self.memo:
            return self.memo[key]
        if key in self.stack:
            return None
        self.stack.add(key)
        try:
            frame = Frame(func.module, env, klass, ())
            self.block(node.body, frame)
        finally:
            self.stack.discard(key)
        result = next((r for r in frame.returns if r is not None), None)
        self.memo[key] = result
        return result

    # -- statements ----------------------------------------------------------------------------------------------------
    def block(self, body: list[ast.stmt], frame: Frame) -> None:
        saved = frame.gates
        for stmt in body:
            self.statement(stmt, frame)
            if isinstance(stmt, ast.If) and not stmt.orelse and _exits(stmt.body):
                gate, guard = self.condition(stmt.test, frame)
                if gate is not None:
                    frame.gates = (*frame.gates, *_negation(gate))
                if guard is not None and guard[1] is False:  # `if x is None: return` -> x is checked below
                    value = frame.env.get(guard[0])
                    if isinstance(value, Trt):
                        frame.env[guard[0]] = Trt(value.chain, True)
        frame.gates = saved

    def statement(self, stmt: ast.stmt, frame: Frame) -> None:
        handler = getattr(self, f"_stmt_{type(stmt).__name__}", None)
        if handler is not None:
            handler(stmt, frame)
            return
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.expr):
                self.expr(child, frame)
            elif isinstance(child, ast.stmt):
                self.statement(child, frame)

    def _stmt_FunctionDef(self, stmt: ast.FunctionDef, frame: Frame) -> None:
        frame.env[stmt.name] = func = Func(frame.module, stmt, dict(frame.env))
        self.call_function(func, [], {})

    _stmt_AsyncFunctionDef = _stmt_FunctionDef

    def _stmt_ClassDef(self, stmt: ast.ClassDef, frame: Frame, bind: bool = True) -> None:
        klass = Klass(frame.module, stmt)
        if bind:
            frame.env[stmt.name] = klass
        bases = [self.expr(b, frame) for b in stmt.bases]
        trt_bases = [b for b in bases if isinstance(b, Trt)]
        for method in self._methods(klass):
            self.call_function(Func(frame.module, method, dict(frame.env)), [Instance(klass)], {}, klass=klass)
        for base in trt_bases:
            methods = self._override_methods(stmt, [b for b in bases if isinstance(b, Klass)])
            where = f"{frame.module.label}:{stmt.lineno}"
            own = tuple(m.name for m in self._methods(klass) if not m.name.startswith("__"))
            self.out.subclasses[f"{where}:{stmt.name}"] = Subclass(
                stmt.name, base.chain, methods, own, frame.gates, base.guarded, where
            )
            self.out.modules.add(frame.module.label)

    def _override_methods(self, node: ast.ClassDef, our_bases: list[Klass]) -> dict[str, tuple[int, int, bool]]:
        methods: dict[str, tuple[int, int, bool]] = {}
        nodes = [k.node for base in reversed(our_bases) for k in reversed(self.mro(base))] + [node]
        for klass_node in nodes:
            for item in klass_node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and not item.name.startswith("__"):
                    params = [*item.args.posonlyargs, *item.args.args][1:]
                    methods[item.name] = (
                        len(params) - len(item.args.defaults),
                        len(params),
                        item.args.vararg is not None,
                    )
        return methods

    def _stmt_Import(self, stmt: ast.Import | ast.ImportFrom, frame: Frame) -> None:
        for name, value in self.program._import_names(stmt, frame.module).items():
            frame.env[name] = value = self.program.resolve(value)
            if isinstance(value, (Trt, Poly)):
                self.out.modules.add(frame.module.label)

    _stmt_ImportFrom = _stmt_Import

    def _stmt_Assign(self, stmt: ast.Assign | ast.AnnAssign, frame: Frame) -> None:
        value = self.expr(stmt.value, frame) if stmt.value is not None else None
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        for target in targets:
            self.assign(target, value, frame)

    _stmt_AnnAssign = _stmt_Assign

    def _stmt_Return(self, stmt: ast.Return, frame: Frame) -> None:
        frame.returns.append(self.expr(stmt.value, frame) if stmt.value is not None else None)

    def _stmt_If(self, stmt: ast.If, frame: Frame) -> None:
        self.expr(stmt.test, frame)
        gate, guard = self.condition(stmt.test, frame)
        saved_gates, saved_env = frame.gates, dict(frame.env)
        for body, positive in ((stmt.body, True), (stmt.orelse, False)):
            if gate is not None:
                frame.gates = (*saved_gates, *(gate if positive else _negation(gate)))
            if guard is not None and guard[1] is positive and isinstance(saved_env.get(guard[0]), Trt):
                frame.env[guard[0]] = Trt(saved_env[guard[0]].chain, True)
            self.block(body, frame)
            frame.gates = saved_gates
            if guard is not None and isinstance(saved_env.get(guard[0]), Trt):
                frame.env[guard[0]] = saved_env[guard[0]]

    def _stmt_With(self, stmt: ast.With, frame: Frame) -> None:
        for item in stmt.items:
            value = self.expr(item.context_expr, frame)
            if item.optional_vars is not None:
                self.assign(item.optional_vars, value, frame)
        self.block(stmt.body, frame)

    def _stmt_For(self, stmt: ast.For, frame: Frame) -> None:
        self.expr(stmt.iter, frame)
        self.assign(stmt.target, None, frame)
        self.block(stmt.body, frame)
        self.block(stmt.orelse, frame)

    def _stmt_Try(self, stmt: ast.Try, frame: Frame) -> None:
        self.block(stmt.body, frame)
        after_body = dict(frame.env)
        for handler in stmt.handlers:  # a handler's assignments join the body's (a None fallback keeps the value)
            self.block(handler.body, frame)
            frame.env.update({k: v for k, v in after_body.items() if v is not None and frame.env.get(k) is None})
        self.block(stmt.orelse, frame)
        self.block(stmt.finalbody, frame)

    def assign(self, target: ast.expr, value: Any, frame: Frame) -> None:
        if isinstance(target, ast.Name):
            if value == Const(None) and frame.env.get(target.id) is not None:
                return  # `x = None` as a fallback or a reset: keep what x may hold
            frame.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value.items if isinstance(value, Seq) and len(value.items) == len(target.elts) else None
            for i, element in enumerate(target.elts):
                self.assign(element, items[i] if items else None, frame)
        elif isinstance(target, ast.Attribute):
            owner = self.expr(target.value, frame)
            if isinstance(owner, Instance) and value is not None and value != Const(None):
                self.attrs.setdefault(owner.klass, {})[target.attr] = value
            elif isinstance(owner, Trt):
                self.record(Trt((*owner.chain, Step("set", target.attr)), owner.guarded), target, frame)
        elif isinstance(target, ast.Subscript):
            owner = self.expr(target.value, frame)
            key = self.expr(target.slice, frame)
            if isinstance(owner, DictKeys):
                if isinstance(key, Const) and isinstance(key.value, str):
                    owner.keys.add(key.value)
                else:
                    owner.star = True

    # -- conditions ----------------------------------------------------------------------------------------------------
    def condition(self, test: ast.expr, frame: Frame) -> tuple[list[Gate] | None, tuple[str, bool] | None]:
        """(gates the test establishes when true, (name, whether true means 'name is present')) for a test."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            gates, guard = self.condition(test.operand, frame)
            return (_negation(gates) or None if gates else None), ((guard[0], not guard[1]) if guard else None)
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            found = [g for value in test.values for g in (self.condition(value, frame)[0] or [])]
            return (found or None), None
        if isinstance(test, ast.Attribute) and test.attr in self.program.target_fields:
            return [Gate("target", test.attr)], None
        if isinstance(test, ast.Name) and isinstance(frame.env.get(test.id), Trt):
            return None, (test.id, True)
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name):
            right = test.comparators[0]
            if isinstance(right, ast.Constant) and right.value is None and isinstance(test.ops[0], (ast.Is, ast.IsNot)):
                return None, (test.left.id, isinstance(test.ops[0], ast.IsNot))
        if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and len(test.args) == 2:
            first, second = (self.expr(a, frame) for a in test.args)
            version = isinstance(first, Trt) and first.chain[-1:] == (Step("attr", "__version__"),)
            if test.func.id == "at_least" and version and isinstance(second, Const) and isinstance(second.value, str):
                return [Gate("version", second.value)], None
            if test.func.id == "hasattr" and isinstance(first, Trt) and isinstance(second, Const):
                return [Gate("has", chain_text((*first.chain, Step("attr", str(second.value)))))], None
        return None, None

    # -- expressions ---------------------------------------------------------------------------------------------------
    def expr(self, node: ast.expr | None, frame: Frame) -> Any:
        if node is None:
            return None
        handler = getattr(self, f"_expr_{type(node).__name__}", None)
        if handler is not None:
            return handler(node, frame)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child, frame)
            elif isinstance(child, ast.comprehension):
                self.expr(child.iter, frame)
                for cond in child.ifs:
                    self.expr(cond, frame)
        return None

    def _expr_Constant(self, node: ast.Constant, frame: Frame) -> Any:
        return Const(node.value)

    def _expr_Name(self, node: ast.Name, frame: Frame) -> Any:
        if node.id in frame.env:
            return frame.env[node.id]
        value = self.program.lookup(frame.module, node.id)
        return value if not isinstance(value, tuple) else None

    def _expr_Attribute(self, node: ast.Attribute, frame: Frame) -> Any:
        owner = self.expr(node.value, frame)
        return self.attribute(owner, node.attr, node, frame)

    def attribute(self, owner: Any, name: str, node: ast.AST, frame: Frame) -> Any:
        if isinstance(owner, Trt):
            return self.record(Trt((*owner.chain, Step("attr", name)), owner.guarded), node, frame)
        if isinstance(owner, Instance):
            for klass in self.mro(owner.klass):
                if name in self.attrs.get(klass, {}):
                    return self.attrs[klass][name]
                method = next((m for m in self._methods(klass) if m.name == name), None)
                if method is not None:
                    return Bound(owner, Func(klass.module, method))
            return None
        if isinstance(owner, Poly):
            return Poly(f"{owner.name}.{name}") if owner.instance else None
        if isinstance(owner, ModuleInfo):
            value = self.program.lookup(owner, name)
            return value if not isinstance(value, tuple) else None
        return None

    def mro(self, klass: Klass) -> list[Klass]:
        order, todo = [], [klass]
        while todo:
            current = todo.pop(0)
            if current in order or current.module is None:
                continue
            order.append(current)
            for base in current.node.bases:
                value = self.program.static_value(base, current.module)
                if isinstance(value, Klass):
                    todo.append(value)
        return order

    def _expr_Call(self, node: ast.Call, frame: Frame) -> Any:
        if isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) in (2, 3):
            return self.getattr_call(node, frame)
        func = self.expr(node.func, frame)
        args = [self.expr(a.value if isinstance(a, ast.Starred) else a, frame) for a in node.args]
        keywords = {k.arg: self.expr(k.value, frame) for k in node.keywords if k.arg is not None}
        star_values = [self.expr(k.value, frame) for k in node.keywords if k.arg is None]
        star = any(isinstance(a, ast.Starred) for a in node.args)
        if isinstance(func, Trt):
            passed = tuple((str(i), a.chain) for i, a in enumerate(args) if isinstance(a, Trt)) + tuple(
                (k, v.chain) for k, v in keywords.items() if isinstance(v, Trt)
            )
            step = Step("call", nargs=len(args), keywords=tuple(keywords), star=star or bool(star_values), args=passed)
            return self.record(Trt((*func.chain, step), func.guarded), node, frame)
        if isinstance(func, Poly):
            names, unknown = set(keywords), star
            for value in star_values:
                if isinstance(value, DictKeys):
                    names |= value.keys
                    unknown = unknown or value.star
                else:
                    unknown = True
            self.poly_call(func.name, len(args), tuple(sorted(names)), unknown, node, frame)
            return Poly(func.name, instance=True) if not func.instance else None
        if isinstance(func, Func):
            return self.call_function(func, args, keywords)
        if isinstance(func, Bound):
            return self.call_function(func.func, [func.instance, *args], keywords, klass=func.instance.klass)
        if isinstance(func, Klass):
            return Instance(func)
        return None

    def getattr_call(self, node: ast.Call, frame: Frame) -> Any:
        owner = self.expr(node.args[0], frame)
        name = self.expr(node.args[1], frame)
        optional = len(node.args) == 3
        if len(node.args) == 3:
            self.expr(node.args[2], frame)
        if isinstance(name, Const) and isinstance(name.value, str):
            name = Cands(((name.value, ()),))
        if not isinstance(owner, Trt) or not isinstance(name, Cands):
            return None
        results = []
        saved = frame.gates
        for candidate, gates in name.values:
            frame.gates = (*saved, *gates)
            step = Step("attr", candidate, optional=optional)
            results.append(self.record(Trt((*owner.chain, step), owner.guarded and not optional), node, frame))
        frame.gates = saved
        return results[0] if len(results) == 1 else None

    def _expr_Subscript(self, node: ast.Subscript, frame: Frame) -> Any:
        owner = self.expr(node.value, frame)
        key = self.expr(node.slice, frame)
        if isinstance(owner, Const) and isinstance(owner.value, (dict, list, tuple)):
            if isinstance(key, Const):
                try:
                    return Const(owner.value[key.value])
                except (KeyError, IndexError, TypeError):
                    return None
            values = owner.value.values() if isinstance(owner.value, dict) else owner.value
            return Rows(tuple((row, _row_gates(row)) for row in values))
        if isinstance(owner, Rows) and isinstance(key, Const) and isinstance(key.value, int):
            picked = []
            for row, gates in owner.rows:
                if isinstance(row, (tuple, list)) and len(row) > key.value and isinstance(row[key.value], str):
                    picked.append((row[key.value], gates))
            return Cands(tuple(picked)) if picked else None
        if isinstance(owner, Seq) and isinstance(key, Const) and isinstance(key.value, int):
            return owner.items[key.value] if -len(owner.items) <= key.value < len(owner.items) else None
        return None

    def _expr_IfExp(self, node: ast.IfExp, frame: Frame) -> Any:
        self.expr(node.test, frame)
        body, orelse = self.expr(node.body, frame), self.expr(node.orelse, frame)
        texts = [v.value for v in (body, orelse) if isinstance(v, Const) and isinstance(v.value, str)]
        if len(texts) == 2:
            return Cands(tuple((t, ()) for t in texts))
        return body if body is not None else orelse

    def _expr_Tuple(self, node: ast.Tuple | ast.List, frame: Frame) -> Any:
        return Seq(tuple(self.expr(e, frame) for e in node.elts))

    _expr_List = _expr_Tuple

    def _expr_Dict(self, node: ast.Dict, frame: Frame) -> Any:
        keys, star = set(), False
        for key, value in zip(node.keys, node.values):
            self.expr(value, frame)
            k = self.expr(key, frame) if key is not None else None
            if isinstance(k, Const) and isinstance(k.value, str):
                keys.add(k.value)
            else:
                star = True
        return DictKeys(keys, star)

    def _expr_Lambda(self, node: ast.Lambda, frame: Frame) -> Any:
        inner = Frame(frame.module, {**frame.env, **{a.arg: None for a in node.args.args}}, frame.klass, frame.gates)
        self.expr(node.body, inner)
        return None

    # -- recording -----------------------------------------------------------------------------------------------------
    def record(self, value: Trt, node: ast.AST, frame: Frame) -> Trt:
        key = (value.chain, frame.gates, value.guarded)
        use = self.out.uses.get(key)
        if use is None:
            use = self.out.uses[key] = Use(value.chain, frame.gates, value.guarded)
        use.where.add(f"{frame.module.label}:{getattr(node, 'lineno', 0)}")
        self.out.modules.add(frame.module.label)
        return value

    def poly_call(
        self, name: str, nargs: int, keywords: tuple[str, ...], star: bool, node: ast.AST, frame: Frame
    ) -> None:
        key = (name, nargs, keywords, star)
        call = self.out.poly_calls.get(key)
        if call is None:
            call = self.out.poly_calls[key] = PolyCall(name, nargs, keywords, star)
        call.where.add(f"{frame.module.label}:{getattr(node, 'lineno', 0)}")
        self.out.modules.add(frame.module.label)


def _negation(gates: list[Gate]) -> list[Gate]:
    """not (a and b) is no conjunction of gates: only a single gate is negated."""
    return [gates[0].negated()] if len(gates) == 1 else []


def _exits(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Raise))


def _row_gates(row: Any) -> tuple[Gate, ...]:
    if isinstance(row, (tuple, list)):
        versions = [v for v in row if isinstance(v, str) and _VERSION.match(v)]
        if len(versions) == 1:
            return (Gate("version", versions[0]),)
    return ()


def _key(value: Any) -> str:
    if isinstance(value, Trt):
        return f"trt:{chain_text(value.chain)}:{value.guarded}"
    if isinstance(value, (Instance, Klass)):
        klass = value.klass if isinstance(value, Instance) else value
        return f"{type(value).__name__}:{klass.node.name}:{id(klass.node)}"
    return type(value).__name__


def collect(src: Path) -> SourceUses:
    """The TensorRT and Polygraphy uses of the package under ``src`` (``src/pt2trt``)."""
    return Collector(Program(src)).run()
