"""The op registry: every op type is defined exactly once, in one place.

An `OpDef` holds, side by side:

- `infer(ctx)`: the static dtype and shape rule, run when a node is built, so
  that a bad dtype or shape fails at the user's line. It returns one
  `(dtype, shape)` pair per output.
- `kernel`: a pure function `kernel(xp, *inputs, **attrs)` over an array
  namespace `xp`. Keyword-only parameters of the kernel name the attrs it
  needs; the executor binds them once per plan. Stateful kernels (variables,
  random numbers) take the run context instead of `xp`.
- `grad(op, *output_grads) -> [input_grad or None, ...]`, written with
  public ops, or `NOT_DIFFERENTIABLE`.
- optionally `bind(op) -> dict`: values a kernel needs that follow from the
  node alone (a variable's name, its static shape), computed once per plan
  and passed to the kernel's keyword-only parameters of the same names. A
  keyword-only parameter named `op` receives the Operation itself.
- optionally `fresh=True`: the kernel always returns new arrays that share
  memory with nothing else (no input, no variable, no other output). The
  NumPy executor may then let a later op write into such a value once it is
  dead (see `caudal.runtime.plan`).
- optionally `inplace`: a variant of the kernel, with the same parameters,
  that may write its result into the buffer of its first input when the
  shapes and dtypes allow it (and otherwise allocates, as the kernel does).
  The executor calls it only where that first input is a fresh value no one
  else can see.
- optionally `variants={backend name: kernel}`: faster kernels for one
  backend (NumPy's `out=` paths, BLAS tricks, scratch buffers), with the
  portable kernel's parameters and results. The portable kernel stays the
  reference: it is what the op-record table checks on every backend.

- a backend may also give `group_variants={backend name: kernel}`: one call
  `group(ctx, ((args, kwargs), ...))` for a run of nodes of a stateful op
  that a plan runs one after another, equal to calling the kernel on each
  `(args, kwargs)` in turn (the optimizer updates of one step, whose shared
  hyperparameters it then reads once).

- optionally `expression`: the kernel as a Python operator expression over
  its inputs (`"{0} + {1}"`), giving the same values on NumPy arrays and
  scalars. The NumPy plan compiler writes it into loop bodies in place of a
  kernel call, where the per-iteration cost of a call would dominate.

Control-flow ops (Switch, Merge, Enter, Exit, NextIteration, LoopCond) are
registered with `kernel=EXECUTOR`: they move values between the parts of a
plan, and each backend's plan compiler carries them out itself.

`register_op` refuses duplicates and refuses a definition without a shape
rule, a kernel or a gradient decision.
"""
from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["OpDef", "register_op", "get_op_def", "NOT_DIFFERENTIABLE", "EXECUTOR", "has_op"]


class _NotDifferentiable:
    def __repr__(self) -> str:
        return "NOT_DIFFERENTIABLE"


NOT_DIFFERENTIABLE: Any = _NotDifferentiable()


def EXECUTOR(*args: Any, **kwargs: Any) -> Any:  # noqa: N802
    """The kernel of a control-flow op: the plan compiler carries the op out; it is never called."""
    raise TypeError("control-flow ops are carried out by the plan compiler, not called as kernels")


def _keyword_only_names(fn: Callable) -> tuple[str, ...]:
    """The keyword-only parameter names of `fn` (read from its code object: inspect is slow)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return tuple(p.name for p in inspect.signature(fn).parameters.values()
                     if p.kind is inspect.Parameter.KEYWORD_ONLY)
    # co_varnames lists the positional parameters, then the keyword-only ones.
    start = code.co_argcount
    return tuple(code.co_varnames[start:start + code.co_kwonlyargcount])


class OpDef:
    """The definition of one op type; see the module docstring."""

    __slots__ = ("type", "infer", "kernel", "grad", "stateful", "ref_inputs", "kernel_attrs", "bind", "fresh",
                 "inplace", "inplace_variants", "group_variants", "variants", "control_flow", "expression")

    def __init__(self, type: str, infer: Callable, kernel: Callable, grad: Any,
                 stateful: bool, ref_inputs: tuple[int, ...], bind: Callable | None = None,
                 fresh: bool = False, inplace: Callable | None = None,
                 variants: dict[str, Callable] | None = None, expression: str | None = None):
        self.type = type
        self.infer = infer
        self.kernel = kernel
        self.grad = grad
        self.stateful = stateful
        self.ref_inputs = ref_inputs
        self.kernel_attrs = _keyword_only_names(kernel)
        self.bind = bind
        self.fresh = fresh
        self.inplace = inplace
        self.inplace_variants: dict[str, Callable] = {}  # a backend's own in-place kernel, by backend name
        self.group_variants: dict[str, Callable] = {}  # a backend's kernel for a run of such nodes
        self.variants = dict(variants or {})
        self.control_flow = kernel is EXECUTOR
        self.expression = expression

    def kernel_for(self, *backends: str) -> Callable:
        """The kernel a backend runs: the variant of the first of `backends` (its own name, then
        the names it inherits kernels from) that has one, else the portable kernel."""
        for backend in backends:
            variant = self.variants.get(backend)
            if variant is not None:
                return variant
        return self.kernel

    def inplace_for(self, *backends: str) -> Callable | None:
        """The in-place kernel a backend runs where a plan may overwrite the first input: the
        in-place variant of the first of `backends` that has one, else `inplace` (None: none)."""
        if self.inplace is None:
            return None
        for backend in backends:
            variant = self.inplace_variants.get(backend)
            if variant is not None:
                return variant
        return self.inplace

    def group_for(self, *backends: str) -> Callable | None:
        """The group kernel of the first of `backends` that has one (None: the plan calls the kernel
        once per node)."""
        for backend in backends:
            variant = self.group_variants.get(backend)
            if variant is not None:
                return variant
        return None

    def kernel_kwargs(self, op: Any) -> dict[str, Any]:
        """The keyword arguments the kernel takes for this node: attrs, bound values, `op`."""
        bound = self.bind(op) if self.bind is not None else {}
        kwargs = {}
        for name in self.kernel_attrs:
            if name in bound:
                kwargs[name] = bound[name]
            elif name == "op":
                kwargs[name] = op
            else:
                kwargs[name] = op._attrs[name]
        return kwargs

    @property
    def differentiable(self) -> bool:
        return self.grad is not NOT_DIFFERENTIABLE

    def __repr__(self) -> str:
        return f"OpDef({self.type!r})"


_REGISTRY: dict[str, OpDef] = {}


def register_op(type: str, *, infer: Callable, kernel: Callable, grad: Any,
                stateful: bool = False, ref_inputs: tuple[int, ...] = (), bind: Callable | None = None,
                fresh: bool = False, inplace: Callable | None = None,
                variants: dict[str, Callable] | None = None, expression: str | None = None) -> OpDef:
    """Defines op `type`. `grad` must be a function or NOT_DIFFERENTIABLE."""
    if type in _REGISTRY:
        raise KeyError(f"Op type {type!r} is already registered")
    if not callable(infer):
        raise TypeError(f"Op {type!r} needs a shape and dtype rule")
    if not callable(kernel):
        raise TypeError(f"Op {type!r} needs a kernel")
    if grad is None or (grad is not NOT_DIFFERENTIABLE and not callable(grad)):
        raise TypeError(f"Op {type!r} needs a gradient function or NOT_DIFFERENTIABLE")
    if inplace is not None:
        if not fresh or stateful:
            raise TypeError(f"Op {type!r}: an in-place kernel needs a fresh, stateless op")
        if _keyword_only_names(inplace) != _keyword_only_names(kernel):
            raise TypeError(f"Op {type!r}: the in-place kernel must take the kernel's keyword arguments")
    for backend, variant in (variants or {}).items():
        if _keyword_only_names(variant) != _keyword_only_names(kernel):
            raise TypeError(f"Op {type!r}: the {backend} variant must take the kernel's keyword arguments")
    if expression is not None and (stateful or _keyword_only_names(kernel)):
        raise TypeError(f"Op {type!r}: only a stateless kernel without attrs can be written as an expression")
    op_def = OpDef(type, infer, kernel, grad, stateful, tuple(ref_inputs), bind, fresh, inplace, variants,
                   expression)
    _REGISTRY[type] = op_def
    return op_def


_LAZY: dict[str, str] = {}  # op type -> the module that registers it when first needed


def register_lazily(module: str, types: list[str]) -> None:
    """Op `types` that `module` registers when imported; it is imported the first time one is
    needed (a program builds one, or a GraphDef holds one), so `import caudal` does not pay for
    families most programs never use."""
    for type in types:
        if type in _REGISTRY or type in _LAZY:
            raise KeyError(f"Op type {type!r} is already registered")
        _LAZY[type] = module


def _load(type: str) -> OpDef | None:
    module = _LAZY.get(type)
    if module is None:
        return None
    importlib.import_module(module)
    found = _REGISTRY.get(type)
    if found is None:
        raise KeyError(f"Module {module} did not register op type {type!r}")
    return found


def get_op_def(type: str) -> OpDef:
    found = _REGISTRY.get(type)
    if found is None:
        found = _load(type)
        if found is None:
            raise KeyError(f"Op type not registered: {type!r}")
    return found


def has_op(type: str) -> bool:
    return type in _REGISTRY or type in _LAZY


def registered_op_types() -> list[str]:
    """Every op type, loading the families registered lazily."""
    for type in list(_LAZY):
        if type not in _REGISTRY:
            _load(type)
    return sorted(_REGISTRY)


_GRADIENT_OVERRIDES: dict[str, Callable] = {}


def register_gradient(name: str) -> Callable[[Callable], Callable]:
    """`tf.RegisterGradient(name)`: a gradient usable through `gradient_override_map`."""

    def decorator(fn: Callable) -> Callable:
        if name in _GRADIENT_OVERRIDES:
            raise KeyError(f"Registering two gradient with name '{name}'!")
        _GRADIENT_OVERRIDES[name] = fn
        return fn

    return decorator


def get_gradient_function(op: Any) -> Any:
    """The gradient function of `op`, honouring the graph's gradient_override_map."""
    override = op.graph._gradient_override_map.get(op.type) if op.graph._gradient_override_map else None
    if override is None:
        override = op._gradient_override
    if override is not None:
        if override in _GRADIENT_OVERRIDES:
            return _GRADIENT_OVERRIDES[override]
        if override in _REGISTRY:
            return _REGISTRY[override].grad
        raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {override})")
    return op._op_def.grad
