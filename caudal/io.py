"""`tf.io` (TF1): TFRecord files, Example parsing, decoding, and (loaded on first use) file and
image ops. Re-exports only."""
from caudal.ops.decode_ops import decode_csv, decode_raw, parse_tensor, serialize_tensor
from caudal.ops.parsing_ops import (
    FixedLenFeature,
    FixedLenSequenceFeature,
    VarLenFeature,
    parse_example,
    parse_single_example,
    parse_single_sequence_example,
)
from caudal.summary.records import TFRecordCompressionType, TFRecordOptions, TFRecordWriter, tf_record_iterator

__all__ = ["FixedLenFeature", "FixedLenSequenceFeature", "VarLenFeature", "TFRecordCompressionType",
           "TFRecordOptions", "TFRecordWriter", "decode_csv", "decode_raw", "parse_example", "parse_single_example",
           "parse_single_sequence_example", "parse_tensor", "serialize_tensor", "tf_record_iterator"]

# Names whose modules other families define, imported on first use.
_LAZY = {
    "read_file": "caudal.ops.io_ops", "write_file": "caudal.ops.io_ops", "matching_files": "caudal.ops.io_ops",
    "decode_png": "caudal.ops.image_ops", "decode_jpeg": "caudal.ops.image_ops",
    "decode_image": "caudal.ops.image_ops", "encode_png": "caudal.ops.image_ops",
    "encode_jpeg": "caudal.ops.image_ops",
    "gfile": "caudal",  # tf.io.gfile is caudal.gfile (TF1's CamelCase names and TF2's snake_case ones)
}
__all__ += sorted(_LAZY)


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'caudal.io' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
