"""`python -m caudal.tools.inspect_checkpoint PATH [--tensor_name N] [--all_tensors] [--all_tensor_names]`.

Prints what a V2 checkpoint holds, in the words of TensorFlow's
`inspect_checkpoint` tool: by default one line per tensor (`name (DT_FLOAT)
[2,3]`); with `--all_tensor_names` (or `--all_tensors`, which adds the
values) `tensor: name (float32) [2, 3]` per tensor; with `--tensor_name`
that tensor and its value. Then the total number of parameters. The
checkpoint is given as PATH or, as in TF, `--file_name`.
"""
from __future__ import annotations

import argparse
import re
import sys

import numpy as np

from caudal import errors

__all__ = ["print_tensors_in_checkpoint_file", "main"]


def _count(reader: object, exclude: str) -> int:
    pattern = re.compile(exclude) if exclude else None
    total = 0
    for name, shape in reader.get_variable_to_shape_map().items():
        if pattern is not None and pattern.search(name):
            continue
        total += int(np.prod(shape, dtype=np.int64))
    return total


def _header(reader: object, name: str) -> str:
    dtype = reader.get_variable_to_dtype_map()[name]
    return f"tensor: {name} ({dtype.name}) {reader.get_variable_to_shape_map()[name]}"


def print_tensors_in_checkpoint_file(file_name: str, tensor_name: str, all_tensors: bool,
                                     all_tensor_names: bool = False, count_exclude_pattern: str = "") -> None:
    """TF's `print_tensors_in_checkpoint_file`: prints to stdout; read errors are printed, not raised."""
    from caudal.checkpoint.reader import NewCheckpointReader

    try:
        reader = NewCheckpointReader(file_name)
        if all_tensors or all_tensor_names:
            for name in sorted(reader.get_variable_to_shape_map()):
                print(_header(reader, name))
                if all_tensors:
                    print(reader.get_tensor(name))
        elif not tensor_name:
            print(reader.debug_string().decode("utf-8"))
        else:
            if not reader.has_tensor(tensor_name):
                print(f"Tensor {tensor_name} not found in checkpoint")
                return
            print(_header(reader, tensor_name))
            print(reader.get_tensor(tensor_name))
        print(f"# Total number of params: {_count(reader, count_exclude_pattern)}")
    except errors.OpError as e:
        print(str(e))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m caudal.tools.inspect_checkpoint",
                                     description="Prints the tensors of a TensorFlow (V2) checkpoint.")
    parser.add_argument("path", nargs="?", help="checkpoint prefix, e.g. model.ckpt-1000")
    parser.add_argument("--file_name", default="", help="checkpoint prefix (TF's spelling of PATH)")
    parser.add_argument("--tensor_name", default="", help="print only this tensor, with its value")
    parser.add_argument("--all_tensors", action="store_true", help="print every tensor with its value")
    parser.add_argument("--all_tensor_names", action="store_true", help="print every tensor's name")
    parser.add_argument("--count_exclude_pattern", default="", help="regex of names left out of the count")
    args = parser.parse_args(argv)
    file_name = args.path or args.file_name
    if not file_name:
        parser.print_usage(sys.stderr)
        print("Usage: inspect_checkpoint PATH [--tensor_name=N] [--all_tensors] [--all_tensor_names]",
              file=sys.stderr)
        return 1
    print_tensors_in_checkpoint_file(file_name, args.tensor_name, args.all_tensors, args.all_tensor_names,
                                     args.count_exclude_pattern)
    return 0


if __name__ == "__main__":
    sys.exit(main())
