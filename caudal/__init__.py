"""caudal: TensorFlow 1.x graph mode, small and fast. `import caudal as tf`.

This module only re-exports; every definition lives in the subpackages.
"""
# ruff: noqa: F401
from caudal import errors, nn, train
from caudal.autodiff.gradients import gradients, hessians
from caudal.framework.constant_value import constant_value as _constant_value
from caudal.framework.convert import convert_to_tensor, register_tensor_conversion_function
from caudal.framework.dtypes import (
    DType,
    as_dtype,
    bfloat16,
    bool_ as bool,  # noqa: A004 - TF's name
    complex64,
    complex128,
    double,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    resource,
    string,
    uint8,
    uint16,
    uint32,
    uint64,
    variant,
)
from caudal.framework.graph import (
    Graph,
    GraphKeys,
    Operation,
    add_to_collection,
    add_to_collections,
    container,
    control_dependencies,
    device,
    get_collection,
    get_collection_ref,
    get_default_graph,
    name_scope,
    op_scope,
    reset_default_graph,
)
from caudal.framework.random_seed import set_random_seed
from caudal.framework.registry import register_gradient as RegisterGradient
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import Dimension, TensorShape, dimension_value
from caudal.init_ops import (
    constant_initializer,
    glorot_normal_initializer,
    glorot_uniform_initializer,
    ones_initializer,
    random_normal_initializer,
    random_uniform_initializer,
    truncated_normal_initializer,
    variance_scaling_initializer,
    zeros_initializer,
)
from caudal.ops.array_ops import (
    broadcast_to,
    concat,
    expand_dims,
    one_hot,
    range,  # noqa: A004 - TF's name
    rank,
    reshape,
    shape,
    shape_n,
    size,
    slice,  # noqa: A004 - TF's name
    squeeze,
    stack,
    transpose,
    unstack,
)
from caudal.ops.clip_ops import (
    clip_by_global_norm,
    clip_by_norm,
    clip_by_value,
    global_norm,
)
from caudal.ops.comparison_ops import (
    equal,
    greater,
    greater_equal,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    not_equal,
    where,
    where_v2,
)
from caudal.ops.cond_ops import Assert, case, cond
from caudal.ops.constant_ops import (
    constant,
    fill,
    ones,
    ones_like,
    placeholder,
    placeholder_with_default,
    zeros,
    zeros_like,
)
from caudal.ops.control_ops import group, identity, no_op, stop_gradient, tuple  # noqa: A004
from caudal.ops.debug_ops import Print, add_check_numerics_ops, check_numerics
from caudal.ops.gather_ops import boolean_mask, gather, unsorted_segment_sum
from caudal.ops.index_ops import (
    dynamic_partition,
    dynamic_stitch,
    gather_nd,
    meshgrid,
    scatter_nd,
    segment_sum,
    sequence_mask,
)
from caudal.ops.linalg_ops import (
    cholesky,
    diag,
    diag_part,
    einsum,
    eye,
    lin_space,
    linspace,
    matrix_band_part,
    matrix_determinant,
    matrix_diag,
    matrix_diag_part,
    matrix_inverse,
    matrix_set_diag,
    matrix_solve,
    matrix_transpose,
    tensordot,
    trace,
)
from caudal.ops.manip_ops import pad, reverse, reverse_v2, split, tile
from caudal.ops.math_ops import (
    abs,  # noqa: A004 - TF's name
    add,
    add_n,
    cast,
    divide,
    exp,
    floordiv,
    floormod,
    log,
    matmul,
    maximum,
    minimum,
    mod,
    multiply,
    negative,
    pow,  # noqa: A004 - TF's name
    realdiv,
    rsqrt,
    sigmoid,
    sign,
    sqrt,
    square,
    subtract,
    tanh,
    truediv,
)
from caudal.ops.random_ops import (
    random_crop,
    random_normal,
    random_shuffle,
    random_uniform,
    truncated_normal,
)
from caudal.ops.reduction_ops import (
    argmax,
    argmin,
    reduce_all,
    reduce_any,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_sum,
)
from caudal.ops.reduction_extra_ops import count_nonzero, reduce_logsumexp
from caudal.ops.scan_ops import cumprod, cumsum
from caudal.ops.sequence_ops import reverse_sequence
from caudal.ops.slicing_ops import strided_slice
from caudal.ops.sort_ops import argsort, sort, unique
from caudal.ops.while_ops import while_loop
from caudal.ops.special_math_ops import (
    acos,
    asin,
    atan,
    atan2,
    ceil,
    cos,
    cosh,
    digamma,
    erf,
    expm1,
    floor,
    is_finite,
    is_inf,
    is_nan,
    lgamma,
    log1p,
    polygamma,
    reciprocal,
    rint,
    round,  # noqa: A004 - TF's name
    sin,
    sinh,
    squared_difference,
    tan,
)
from caudal.runtime.session import InteractiveSession, Session, get_default_session
from caudal.variable_scope import (
    AUTO_REUSE,
    VariableScope,
    get_local_variable,
    get_variable,
    get_variable_scope,
    no_regularizer,
    variable_op_scope,
    variable_scope,
)
from caudal.variables import (
    Variable,
    assert_variables_initialized,
    assign,
    assign_add,
    assign_sub,
    global_variables,
    global_variables_initializer,
    is_variable_initialized,
    local_variables,
    local_variables_initializer,
    model_variables,
    moving_average_variables,
    report_uninitialized_variables,
    trainable_variables,
    variables_initializer,
)

float = float32  # noqa: A001 - TF's alias
newaxis = None


def disable_v2_behavior() -> None:
    """caudal always behaves like TF1 graph mode; kept so TF1-in-TF2 programs run unchanged."""


def disable_eager_execution() -> None:
    """caudal never executes eagerly; kept so TF1-in-TF2 programs run unchanged."""


def enable_eager_execution(*args: object, **kwargs: object) -> None:
    raise NotImplementedError("caudal implements TF1 graph mode only; eager execution is not available.")


def executing_eagerly() -> bool:
    return False


from caudal import compat  # noqa: E402 - compat.v1 refers back to this module

# Submodules loaded on first use, to keep `import caudal` fast.
_LAZY_SUBMODULES = {
    "test": "caudal.test",
    "math": "caudal.math",
    "linalg": "caudal.linalg",
    "losses": "caudal.losses",
    "layers": "caudal.layers",
    "keras": "caudal.keras",
    "contrib": "caudal.contrib",
    "summary": "caudal.summary",
    "graph_util": "caudal.graph_util",
    "initializers": "caudal.initializers",
    "data": "caudal.data",
    "image": "caudal.image",
    "io": "caudal.io",
    "python_io": "caudal.python_io",
    "sparse": "caudal.sparse",
    "strings": "caudal.strings",
    "metrics": "caudal.metrics",
    "saved_model": "caudal.saved_model",
    "app": "caudal.app",
    "debugging": "caudal.debugging",
    "dtypes": "caudal.dtypes",
    "flags": "caudal.flags",
    "gfile": "caudal.gfile",
    "logging": "caudal.logging",
    "manip": "caudal.manip",
    "nest": "caudal.nest",
    "random": "caudal.random",
    "version": "caudal.version",
    "feature_column": "caudal.feature_column",
    "lookup": "caudal.lookup",
    "estimator": "caudal.estimator",
    "distribute": "caudal.distribute",
    "queue": "caudal.queue",
}


# Names whose modules load protobuf: imported on first use, for the same reason.
_LAZY_NAMES = {
    "regex_replace": ("caudal.ops.regex_ops", "regex_replace"),
    "DeviceSpec": ("caudal.framework.device_spec", "DeviceSpec"),
    "QueueBase": ("caudal.ops.queue_ops", "QueueBase"),
    "FIFOQueue": ("caudal.ops.queue_ops", "FIFOQueue"),
    "PaddingFIFOQueue": ("caudal.ops.queue_ops", "PaddingFIFOQueue"),
    "RandomShuffleQueue": ("caudal.ops.queue_ops", "RandomShuffleQueue"),
    "PriorityQueue": ("caudal.ops.queue_ops", "PriorityQueue"),
    "ConditionalAccumulator": ("caudal.ops.accumulator_ops", "ConditionalAccumulator"),
    "ConditionalAccumulatorBase": ("caudal.ops.accumulator_ops", "ConditionalAccumulatorBase"),
    "ReaderBase": ("caudal.ops.reader_ops", "ReaderBase"),
    "WholeFileReader": ("caudal.ops.reader_ops", "WholeFileReader"),
    "TextLineReader": ("caudal.ops.reader_ops", "TextLineReader"),
    "FixedLengthRecordReader": ("caudal.ops.reader_ops", "FixedLengthRecordReader"),
    "TFRecordReader": ("caudal.ops.reader_ops", "TFRecordReader"),
    "IdentityReader": ("caudal.ops.reader_ops", "IdentityReader"),
    "count_up_to": ("caudal.ops.counter_ops", "count_up_to"),
    "string_to_hash_bucket_fast": ("caudal.ops.categorical_ops", "string_to_hash_bucket_fast"),
    "as_string": ("caudal.ops.categorical_ops", "as_string"),
    "sparse_segment_sum": ("caudal.ops.sparse_segment_ops", "sparse_segment_sum"),
    "sparse_segment_mean": ("caudal.ops.sparse_segment_ops", "sparse_segment_mean"),
    "sparse_segment_sqrt_n": ("caudal.ops.sparse_segment_ops", "sparse_segment_sqrt_n"),
    "div_no_nan": ("caudal.ops.sparse_segment_ops", "div_no_nan"),
    "sparse_reshape": ("caudal.ops.sparse_rows_ops", "sparse_reshape"),
    "sparse_fill_empty_rows": ("caudal.ops.sparse_rows_ops", "sparse_fill_empty_rows"),
    "sparse_retain": ("caudal.ops.sparse_rows_ops", "sparse_retain"),
    "import_graph_def": ("caudal.framework.graph_io", "import_graph_def"),
    "make_tensor_proto": ("caudal.framework.tensor_util", "make_tensor_proto"),
    "make_ndarray": ("caudal.framework.tensor_util", "make_ndarray"),
    "AttrValue": ("caudal.proto.attr_value_pb2", "AttrValue"),
    "NameAttrList": ("caudal.proto.attr_value_pb2", "NameAttrList"),
    "GraphDef": ("caudal.proto.graph_pb2", "GraphDef"),
    "MetaGraphDef": ("caudal.proto.meta_graph_pb2", "MetaGraphDef"),
    "TensorInfo": ("caudal.proto.meta_graph_pb2", "TensorInfo"),
    "NodeDef": ("caudal.proto.node_def_pb2", "NodeDef"),
    "Summary": ("caudal.proto.summary_pb2", "Summary"),
    "SummaryMetadata": ("caudal.proto.summary_pb2", "SummaryMetadata"),
    "HistogramProto": ("caudal.proto.summary_pb2", "HistogramProto"),
    "Event": ("caudal.proto.event_pb2", "Event"),
    "SessionLog": ("caudal.proto.event_pb2", "SessionLog"),
    "ConfigProto": ("caudal.proto.config_pb2", "ConfigProto"),
    "GPUOptions": ("caudal.proto.config_pb2", "GPUOptions"),
    "GraphOptions": ("caudal.proto.config_pb2", "GraphOptions"),
    "OptimizerOptions": ("caudal.proto.config_pb2", "OptimizerOptions"),
    "RunOptions": ("caudal.proto.config_pb2", "RunOptions"),
    "RunMetadata": ("caudal.proto.config_pb2", "RunMetadata"),
    "TensorArray": ("caudal.ops.tensor_array_ops", "TensorArray"),
    "map_fn": ("caudal.ops.functional_ops", "map_fn"),
    "scan": ("caudal.ops.functional_ops", "scan"),
    "foldl": ("caudal.ops.functional_ops", "foldl"),
    "foldr": ("caudal.ops.functional_ops", "foldr"),
    "IndexedSlices": ("caudal.framework.indexed_slices", "IndexedSlices"),
    "IndexedSlicesValue": ("caudal.framework.indexed_slices", "IndexedSlicesValue"),
    "convert_to_tensor_or_indexed_slices": ("caudal.framework.indexed_slices", "convert_to_tensor_or_indexed_slices"),
    "SparseTensor": ("caudal.framework.sparse_tensor", "SparseTensor"),
    "SparseTensorValue": ("caudal.framework.sparse_tensor", "SparseTensorValue"),
    "sparse_tensor_to_dense": ("caudal.ops.sparse_ops", "sparse_tensor_to_dense"),
    "sparse_to_dense": ("caudal.ops.sparse_ops", "sparse_to_dense"),
    "FixedLenFeature": ("caudal.ops.parsing_ops", "FixedLenFeature"),
    "VarLenFeature": ("caudal.ops.parsing_ops", "VarLenFeature"),
    "FixedLenSequenceFeature": ("caudal.ops.parsing_ops", "FixedLenSequenceFeature"),
    "parse_single_example": ("caudal.ops.parsing_ops", "parse_single_example"),
    "parse_example": ("caudal.ops.parsing_ops", "parse_example"),
    "parse_single_sequence_example": ("caudal.ops.parsing_ops", "parse_single_sequence_example"),
    "decode_raw": ("caudal.ops.parsing_ops", "decode_raw"),
    "decode_csv": ("caudal.ops.parsing_ops", "decode_csv"),
    "string_split": ("caudal.ops.string_ops", "string_split"),
    "py_func": ("caudal.ops.script_ops", "py_func"),
    "numpy_function": ("caudal.ops.script_ops", "numpy_function"),
    "read_file": ("caudal.ops.io_ops", "read_file"),
    "write_file": ("caudal.ops.io_ops", "write_file"),
    "matching_files": ("caudal.ops.io_ops", "matching_files"),
    "LogMessage": ("caudal.proto.event_pb2", "LogMessage"),
}

# TF's deprecated names and pre-1.0 spellings: each warns once, in TF's words (caudal/deprecated.py).
_LAZY_NAMES.update({name: ("caudal.deprecated", name) for name in [
    "all_variables", "arg_max", "arg_min", "audio_summary", "batch_gather", "clip_by_average_norm", "concat_v2", "div",
    "histogram_summary", "image_summary", "initialize_all_tables", "initialize_all_variables",
    "initialize_local_variables", "initialize_variables", "merge_all_summaries", "merge_summary", "mul", "multinomial",
    "neg", "pack", "scalar_summary", "select", "sub", "to_bfloat16", "to_complex64", "to_complex128", "to_double",
    "to_float", "to_int32", "to_int64", "unpack"]})
# Aliases and thin wrappers of TF1's top-level namespace.
_LAZY_NAMES.update({name: ("caudal.framework_extras", name) for name in [
    "AggregationMethod", "NoGradient", "NotDifferentiable", "UnconnectedGradients", "broadcast_static_shape",
    "colocate_with", "control_flow_v2_enabled", "dimension_at_index",
    "disable_control_flow_v2", "disable_resource_variables", "disable_tensor_equality", "disable_v2_tensorshape",
    "enable_control_flow_v2", "enable_resource_variables", "enable_tensor_equality", "enable_v2_behavior",
    "enable_v2_tensorshape", "executing_eagerly_outside_functions", "floor_div", "get_static_value", "init_scope",
    "is_numeric_tensor", "is_tensor", "no_gradient", "resource_variables_enabled", "tables_initializer",
    "verify_tensor_all_finite"]})
_LAZY_NAMES.update({name: ("caudal.ops.math_composites", name) for name in [
    "accumulate_n", "is_non_decreasing", "is_strictly_increasing", "log_sigmoid", "norm", "scalar_mul"]})
_LAZY_NAMES.update({name: ("caudal.ops.check_ops", name) for name in [
    "assert_greater", "assert_greater_equal", "assert_less", "assert_less_equal", "assert_non_negative",
    "assert_rank_in", "assert_type"]})
_LAZY_NAMES.update({name: ("caudal.version", name) for name in [
    "GRAPH_DEF_VERSION", "GRAPH_DEF_VERSION_MIN_CONSUMER", "GRAPH_DEF_VERSION_MIN_PRODUCER", "VERSION"]})
_LAZY_NAMES.update({"OpError": ("caudal.errors", "OpError"), "get_logger": ("caudal.logging", "get_logger"),
                    "get_seed": ("caudal.framework.random_seed", "get_seed"),
                    "confusion_matrix": ("caudal.ops.confusion_matrix", "confusion_matrix"),
                    "scatter_add": ("caudal.ops.state_ops", "scatter_add"),
                    "scatter_sub": ("caudal.ops.state_ops", "scatter_sub"),
                    "scatter_update": ("caudal.ops.state_ops", "scatter_update"),
                    "serialize_tensor": ("caudal.ops.decode_ops", "serialize_tensor"),
                    "parse_tensor": ("caudal.ops.decode_ops", "parse_tensor")})


def __getattr__(name: str) -> object:
    import importlib

    module_name = _LAZY_SUBMODULES.get(name)
    if module_name is not None:
        value = importlib.import_module(module_name)
    elif name in _LAZY_NAMES:
        module_name, attribute = _LAZY_NAMES[name]
        value = getattr(importlib.import_module(module_name), attribute)
    else:
        raise AttributeError(f"module 'caudal' has no attribute {name!r}")
    globals()[name] = value
    return value

__version__ = "0.1.0"
