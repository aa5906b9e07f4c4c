"""`tf.dtypes`: the DType objects, `as_dtype` and `cast`; re-exports only."""
# ruff: noqa: F401
from caudal.framework.dtypes import (
    DType,
    as_dtype,
    bfloat16,
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
from caudal.framework.dtypes import bool_ as bool  # noqa: A004 - TF's name
from caudal.ops.math_ops import cast
