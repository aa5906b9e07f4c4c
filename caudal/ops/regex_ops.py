"""Regex ops on RE2, TensorFlow's engine: RegexFullMatch, StaticRegexReplace, RegexReplace
(`tf.strings.regex_full_match`, `tf.strings.regex_replace`).

Patterns are compiled by RE2 (the `google-re2` package), which matches in
time linear in the input, so no pattern (`(a+)+$`) can hang the process;
the syntax and semantics are TF's: no backreferences in patterns, `.` does
not match a newline, strings are matched as UTF-8. A rewrite names groups as
`\\0`..`\\9` (`\\\\` is a backslash); a rewrite naming a group the pattern does
not have leaves the string unchanged, as TF's kernel does. A bad pattern is
InvalidArgumentError("Invalid pattern: P, error: ...") when the pattern is a
tensor; a static pattern (an attr) is checked when the node is built
(ValueError, the same text). StaticRegexFullMatch lives in `checkpoint_ops`
(the sharded Saver uses it).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.ops.checkpoint_ops import _check_string, compile_re2, static_regex_full_match

__all__ = ["regex_full_match", "regex_replace"]


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _scalar_text(value: Any, what: str) -> str:
    array = np.asarray(value, dtype=object)
    if array.shape != ():
        raise InvalidArgumentError(None, None, f"{what} must be scalar, but received {list(array.shape)}")
    return _text(array.reshape(-1)[0])


def _parse_rewrite(rewrite: str) -> list[str | int] | None:
    """The rewrite as literal pieces and group numbers; None when it is not a valid RE2 rewrite."""
    pieces: list[str | int] = []
    literal = []
    i = 0
    while i < len(rewrite):
        c = rewrite[i]
        if c != "\\":
            literal.append(c)
            i += 1
            continue
        if i + 1 >= len(rewrite):
            return None
        nxt = rewrite[i + 1]
        if nxt.isdigit():
            if literal:
                pieces.append("".join(literal))
                literal = []
            pieces.append(int(nxt))
        elif nxt == "\\":
            literal.append("\\")
        else:
            return None
        i += 2
    if literal:
        pieces.append("".join(literal))
    return pieces


def _replace_one(regex: Any, pieces: list[str | int], text: str, replace_global: bool) -> str:
    """RE2's Replace / GlobalReplace: an empty match right after the previous match is skipped."""
    out = []
    position = 0
    last_end = -1
    while position <= len(text):
        match = regex.search(text, position)
        if match is None:
            break
        start, end = match.span()
        out.append(text[position:start])
        if start == end and start == last_end:
            if position < len(text):
                out.append(text[position])
            position += 1
            continue
        out.append("".join(p if isinstance(p, str) else (match.group(p) or "") for p in pieces))
        position = end
        last_end = end
        if not replace_global:
            break
    else:
        return "".join(out)
    if position < len(text):
        out.append(text[position:])
    return "".join(out)


def _replace(values: Any, pattern: str, rewrite: str, replace_global: bool) -> np.ndarray:
    regex = compile_re2(pattern)
    array = np.asarray(values, dtype=object)
    pieces = _parse_rewrite(rewrite)
    groups = regex.groups
    valid = pieces is not None and all(isinstance(p, str) or p <= groups for p in pieces)
    result = np.empty(array.shape, dtype=object)
    flat_in = array.reshape(-1)
    flat_out = result.reshape(-1)
    for i, value in enumerate(flat_in):
        text = _text(value)
        flat_out[i] = (_replace_one(regex, pieces, text, replace_global) if valid else text).encode("utf-8")
    return result


# ---------------------------------------------------------------- RegexFullMatch
def _full_match_infer(ctx: InferContext) -> list:
    _check_string(ctx, 0, "input", ctx.shape(0).ndims if ctx.shape(0).ndims is not None else 0)
    _check_string(ctx, 1, "pattern", 0)
    return [(dtypes_lib.bool_, ctx.shape(0))]


def _full_match_kernel(xp: Any, input: Any, pattern: Any) -> Any:
    regex = compile_re2(_scalar_text(pattern, "Pattern"))
    values = np.asarray(input, dtype=object)
    flat = [regex.fullmatch(_text(v)) is not None for v in values.reshape(-1)]
    return np.array(flat, dtype=bool).reshape(values.shape)


register_op("RegexFullMatch", infer=_full_match_infer, kernel=_full_match_kernel, grad=NOT_DIFFERENTIABLE)


# ---------------------------------------------------------- StaticRegexReplace
def _static_replace_infer(ctx: InferContext) -> list:
    _check_string(ctx, 0, "input", ctx.shape(0).ndims if ctx.shape(0).ndims is not None else 0)
    try:
        compile_re2(_text(ctx.attrs["pattern"]))
    except InvalidArgumentError as e:
        raise ValueError(e.message) from None
    return [(dtypes_lib.string, ctx.shape(0))]


def _static_replace_kernel(xp: Any, input: Any, *, pattern: Any, rewrite: Any, replace_global: bool = True) -> Any:
    return _replace(input, _text(pattern), _text(rewrite), bool(replace_global))


register_op("StaticRegexReplace", infer=_static_replace_infer, kernel=_static_replace_kernel,
            grad=NOT_DIFFERENTIABLE)


# ---------------------------------------------------------------- RegexReplace
def _replace_infer(ctx: InferContext) -> list:
    _check_string(ctx, 0, "input", ctx.shape(0).ndims if ctx.shape(0).ndims is not None else 0)
    _check_string(ctx, 1, "pattern", 0)
    _check_string(ctx, 2, "rewrite", 0)
    return [(dtypes_lib.string, ctx.shape(0))]


def _replace_kernel(xp: Any, input: Any, pattern: Any, rewrite: Any, *, replace_global: bool = True) -> Any:
    return _replace(input, _scalar_text(pattern, "Pattern"), _scalar_text(rewrite, "Rewrite"),
                    bool(replace_global))


register_op("RegexReplace", infer=_replace_infer, kernel=_replace_kernel, grad=NOT_DIFFERENTIABLE)


# ---------------------------------------------------------------- public
def _is_text(value: Any) -> bool:
    return isinstance(value, (str, bytes))


def regex_full_match(input: Any, pattern: Any, name: str | None = None) -> Tensor:
    """`tf.strings.regex_full_match`: StaticRegexFullMatch for a Python string pattern, else RegexFullMatch."""
    if _is_text(pattern):
        return static_regex_full_match(input, _text(pattern), name=name or "StaticRegexFullMatch")
    return apply_op("RegexFullMatch", [convert_to_tensor(input, dtype=dtypes_lib.string),
                                       convert_to_tensor(pattern, dtype=dtypes_lib.string)], {},
                    name or "RegexFullMatch")


def regex_replace(input: Any, pattern: Any, rewrite: Any, replace_global: bool = True,
                  name: str | None = None) -> Tensor:
    """`tf.strings.regex_replace`: StaticRegexReplace when pattern and rewrite are Python strings, else
    RegexReplace; every match (or only the first, without `replace_global`) becomes `rewrite`."""
    source = convert_to_tensor(input, dtype=dtypes_lib.string)
    if _is_text(pattern) and _is_text(rewrite):
        return apply_op("StaticRegexReplace", [source], {"pattern": _text(pattern), "rewrite": _text(rewrite),
                                                         "replace_global": bool(replace_global)},
                        name or "StaticRegexReplace")
    return apply_op("RegexReplace", [source, convert_to_tensor(pattern, dtype=dtypes_lib.string),
                                     convert_to_tensor(rewrite, dtype=dtypes_lib.string)],
                    {"replace_global": bool(replace_global)}, name or "RegexReplace")
