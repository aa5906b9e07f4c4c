"""`python -m caudal.tools.show_graph model.pb`: what a (frozen) GraphDef takes, gives and contains.

Prints the inputs (Placeholder nodes with dtype and shape), the outputs
(nodes no other node consumes, by data or control edge) and the count of
each op type. The file may be a binary or a text GraphDef.
"""
from __future__ import annotations

import argparse
import collections
import sys

from google.protobuf import text_format
from google.protobuf.message import DecodeError

from caudal.framework import dtypes as dtypes_lib
from caudal.proto import graph_pb2

__all__ = ["load_graph_def", "summarize_graph", "main"]


def load_graph_def(path: str) -> graph_pb2.GraphDef:
    """A GraphDef from a binary file, or a text one; ValueError if it is neither."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        graph_def = graph_pb2.GraphDef.FromString(data)
        if graph_def.node or not data:
            return graph_def
    except DecodeError:
        pass
    try:
        return text_format.Parse(data.decode("utf-8"), graph_pb2.GraphDef())
    except (text_format.ParseError, UnicodeDecodeError):
        raise ValueError(f"{path} is not a GraphDef (binary or text)") from None


def _shape_text(node: object) -> str:
    if "shape" not in node.attr:
        return "unknown"
    shape = node.attr["shape"].shape
    if shape.unknown_rank:
        return "unknown"
    return "[" + ",".join("?" if d.size < 0 else str(d.size) for d in shape.dim) + "]"


def summarize_graph(graph_def: graph_pb2.GraphDef) -> str:
    """The report `main` prints."""
    consumed = set()
    for node in graph_def.node:
        for text in node.input:
            consumed.add((text[1:] if text.startswith("^") else text).split(":")[0])
    lines = []
    inputs = [n for n in graph_def.node if n.op in ("Placeholder", "PlaceholderV2")]
    lines.append(f"Found {len(inputs)} possible inputs:")
    for node in inputs:
        dtype = dtypes_lib.as_dtype(node.attr["dtype"].type).name if "dtype" in node.attr else "unknown"
        lines.append(f"  (name={node.name}, type={dtype}, shape={_shape_text(node)})")
    outputs = [n for n in graph_def.node if n.name not in consumed]
    lines.append(f"Found {len(outputs)} possible outputs:")
    for node in outputs:
        lines.append(f"  (name={node.name}, op={node.op})")
    counts = collections.Counter(n.op for n in graph_def.node)
    lines.append(f"Found {len(graph_def.node)} nodes, {len(counts)} op types:")
    for op, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"  {op}: {count}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m caudal.tools.show_graph",
                                     description="Prints a GraphDef's inputs, outputs and op counts.")
    parser.add_argument("graph", help="a GraphDef file (.pb binary or .pbtxt text)")
    args = parser.parse_args(argv)
    try:
        graph_def = load_graph_def(args.graph)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(summarize_graph(graph_def))
    return 0


if __name__ == "__main__":
    sys.exit(main())
