"""`python -m caudal.tools.saved_model_cli show|run`: inspect and run SavedModels, in the spirit of
TensorFlow's `saved_model_cli`.

    show --dir D                               the tag-sets
    show --dir D --tag_set serve               the signature keys of that meta graph
    show --dir D --tag_set serve --signature_def K   the signature's inputs and outputs
    show --dir D --all                         everything
    run --dir D --tag_set serve --signature_def K --inputs 'x=in.npy' --input_exprs 'y=np.ones((2,3))'
        [--outdir DIR [--overwrite]]

`--input_exprs` values are Python literals (numbers, lists, tuples) or calls of a few NumPy constructors
(`np.ones`, `np.zeros`, `np.full`, `np.arange`, `np.linspace`, `np.eye`, `np.array`) with literal
arguments: they are read with `ast`, never evaluated, unlike TF's tool. `--inputs` reads `.npy` files, or
an array of an `.npz` file (`x=f.npz[key]`), with `allow_pickle=False`.
"""
from __future__ import annotations

import argparse
import ast
import os
import sys
from typing import Any

import numpy as np

__all__ = ["main", "parse_input_exprs", "parse_inputs"]

_NUMPY_CALLS = {"ones": np.ones, "zeros": np.zeros, "full": np.full, "arange": np.arange, "linspace": np.linspace,
                "eye": np.eye, "array": np.array, "asarray": np.asarray}
_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool_", "bool"}


def _literal(node: ast.AST) -> Any:
    """The value of a literal expression, or of one of the allowed NumPy calls with literal arguments."""
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("np", "numpy") \
                and func.attr in _NUMPY_CALLS:
            args = [_literal(a) for a in node.args]
            kwargs = {k.arg: _literal(k.value) for k in node.keywords if k.arg is not None}
            return _NUMPY_CALLS[func.attr](*args, **kwargs)
        raise ValueError(f"only np.{{{', '.join(sorted(_NUMPY_CALLS))}}} calls are allowed, not {ast.unparse(node)}")
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("np", "numpy") \
            and node.attr in _DTYPES:
        return getattr(np, node.attr)
    return ast.literal_eval(node)


def parse_input_exprs(text: str) -> dict[str, Any]:
    """`'x=[[1,2]];y=np.ones((2,3))'` as {key: array}."""
    result = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, expression = part.partition("=")
        if not sep:
            raise ValueError(f"--input_exprs \"{part}\" format is incorrect. Please follow \"<input_key>=<python "
                             "expression>\"")
        try:
            result[key.strip()] = np.asarray(_literal(ast.parse(expression.strip(), mode="eval").body))
        except (ValueError, SyntaxError, TypeError) as e:
            raise ValueError(f"--input_exprs \"{part}\": {e}") from None
    return result


def parse_inputs(text: str) -> dict[str, Any]:
    """`'x=a.npy;y=b.npz[key]'` as {key: array}."""
    result = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, path = part.partition("=")
        if not sep:
            raise ValueError(f"--inputs \"{part}\" format is incorrect. Please follow \"<input_key>=<filename>\" or "
                             "\"<input_key>=<filename>[<variable_name>]\"")
        variable = None
        if path.endswith("]") and "[" in path:
            path, _, variable = path[:-1].partition("[")
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                names = list(loaded.files)
                if variable is None and len(names) != 1:
                    raise ValueError(f"Input file {path} contains several arrays; name one: {names}")
                result[key.strip()] = loaded[variable or names[0]]
        else:
            result[key.strip()] = loaded
    return result


def _dtype_name(enum: int) -> str:
    from caudal.proto import types_pb2

    return types_pb2.DataType.Name(enum)


def _shape_text(shape: Any) -> str:
    if shape.unknown_rank:
        return "unknown_rank"
    dims = [d.size for d in shape.dim]
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def _print_infos(kind: str, infos: Any, indent: str) -> None:
    for key in sorted(infos):
        info = infos[key]
        print(f"{indent}{kind}['{key}'] tensor_info:")
        print(f"{indent}    dtype: {_dtype_name(info.dtype)}")
        print(f"{indent}    shape: {_shape_text(info.tensor_shape)}")
        if info.WhichOneof("encoding") == "coo_sparse":
            print(f"{indent}    name: {info.coo_sparse.values_tensor_name} (sparse)")
        else:
            print(f"{indent}    name: {info.name}")


def _print_signature(signature: Any, indent: str = "") -> None:
    print(f"{indent}The given SavedModel SignatureDef contains the following input(s):")
    _print_infos("inputs", signature.inputs, indent + "  ")
    print(f"{indent}The given SavedModel SignatureDef contains the following output(s):")
    _print_infos("outputs", signature.outputs, indent + "  ")
    print(f"{indent}Method name is: {signature.method_name}")


def _meta_graph(saved_model: Any, tag_set: str) -> Any:
    from caudal.saved_model.loader import _meta_graph_with_tags

    return _meta_graph_with_tags(saved_model, [t.strip() for t in tag_set.split(",") if t.strip()])


def show(args: argparse.Namespace) -> None:
    from caudal.saved_model.loader import parse_saved_model

    saved_model = parse_saved_model(args.dir)
    if args.all:
        for meta_graph in saved_model.meta_graphs:
            tags = ", ".join(meta_graph.meta_info_def.tags)
            print(f"\nMetaGraphDef with tag-set: '{tags}' contains the following SignatureDefs:")
            for key in sorted(meta_graph.signature_def):
                print(f"\nsignature_def['{key}']:")
                _print_signature(meta_graph.signature_def[key], "  ")
        return
    if args.tag_set is None:
        print("The given SavedModel contains the following tag-sets:")
        for meta_graph in saved_model.meta_graphs:
            print("'" + ", ".join(sorted(meta_graph.meta_info_def.tags)) + "'")
        return
    meta_graph = _meta_graph(saved_model, args.tag_set)
    if args.signature_def is None:
        print("The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:")
        for key in sorted(meta_graph.signature_def):
            print(f'SignatureDef key: "{key}"')
        return
    _print_signature(_signature(meta_graph, args.signature_def))


def _signature(meta_graph: Any, key: str) -> Any:
    if key not in meta_graph.signature_def:
        raise ValueError(f"Could not find signature \"{key}\". Please choose from: "
                         f"{', '.join(sorted(meta_graph.signature_def))}")
    return meta_graph.signature_def[key]


def run(args: argparse.Namespace) -> None:
    import caudal as tf
    from caudal.saved_model.loader import parse_saved_model

    feeds = {}
    if args.inputs:
        feeds.update(parse_inputs(args.inputs))
    if args.input_exprs:
        feeds.update(parse_input_exprs(args.input_exprs))
    signature = _signature(_meta_graph(parse_saved_model(args.dir), args.tag_set), args.signature_def)
    unknown = sorted(set(feeds) - set(signature.inputs))
    if unknown:
        raise ValueError(f"\"{unknown[0]}\" is not a valid input key. Please choose from "
                         + ", ".join(f'"{k}"' for k in sorted(signature.inputs)) + ", or use --show option.")
    missing = sorted(set(signature.inputs) - set(feeds))
    if missing:
        raise ValueError(f"Missing input(s) for the signature: {', '.join(missing)}")
    with tf.Graph().as_default(), tf.Session() as sess:
        tf.saved_model.loader.load(sess, [t.strip() for t in args.tag_set.split(",") if t.strip()], args.dir)
        keys = sorted(signature.outputs)
        results = sess.run([signature.outputs[k].name for k in keys],
                           {signature.inputs[k].name: v for k, v in feeds.items()})
    for key, value in zip(keys, results):
        if args.outdir:
            os.makedirs(args.outdir, exist_ok=True)
            path = os.path.join(args.outdir, key + ".npy")
            if os.path.exists(path) and not args.overwrite:
                raise RuntimeError(f"Output file {path} already exists. Add \"--overwrite\" to overwrite the existing "
                                   "output files.")
            np.save(path, value, allow_pickle=False)
            print(f"Output {key} is saved to {path}")
        else:
            print(f"Result for output key {key}:\n{value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="saved_model_cli", description="Inspect and run SavedModels.")
    commands = parser.add_subparsers(dest="command", required=True)
    show_parser = commands.add_parser("show", help="show the tag-sets, signatures, inputs and outputs")
    show_parser.add_argument("--dir", required=True)
    show_parser.add_argument("--all", action="store_true")
    show_parser.add_argument("--tag_set")
    show_parser.add_argument("--signature_def")
    run_parser = commands.add_parser("run", help="run a signature on given inputs")
    run_parser.add_argument("--dir", required=True)
    run_parser.add_argument("--tag_set", required=True)
    run_parser.add_argument("--signature_def", required=True)
    run_parser.add_argument("--inputs", default="")
    run_parser.add_argument("--input_exprs", default="")
    run_parser.add_argument("--outdir")
    run_parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    try:
        (show if args.command == "show" else run)(args)
    except (ValueError, RuntimeError, OSError) as e:
        print(f"saved_model_cli: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
