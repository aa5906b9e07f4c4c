"""`tf.math`: re-exports of the math ops; no definitions live here."""
# ruff: noqa: F401, A004
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
)
from caudal.ops.confusion_matrix import confusion_matrix
from caudal.ops.gather_ops import unsorted_segment_sum
from caudal.ops.index_ops import segment_sum
from caudal.ops.math_composites import (
    accumulate_n,
    is_non_decreasing,
    is_strictly_increasing,
    log_sigmoid,
    polyval,
    reduce_std,
    reduce_variance,
    scalar_mul,
    zero_fraction,
)
from caudal.ops.math_ops import (
    abs,
    add,
    add_n,
    divide,
    exp,
    floordiv,
    floormod,
    log,
    maximum,
    minimum,
    mod,
    multiply,
    negative,
    pow,
    rsqrt,
    sigmoid,
    sign,
    sqrt,
    square,
    subtract,
    tanh,
    truediv,
)
from caudal.ops.nn_activation_ops import softplus, softsign
from caudal.ops.nn_ops import in_top_k, log_softmax, softmax
from caudal.ops.normalization_ops import l2_normalize
from caudal.ops.reduction_extra_ops import count_nonzero, reduce_logsumexp
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
from caudal.ops.scan_ops import cumprod, cumsum
from caudal.ops.sort_ops import top_k
from caudal.ops.sparse_segment_ops import div_no_nan as divide_no_nan
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
    round,
    sin,
    sinh,
    squared_difference,
    tan,
)
