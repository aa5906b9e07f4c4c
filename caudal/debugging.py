"""`tf.debugging`: the checking ops under their `tf.debugging` names; re-exports only."""
# ruff: noqa: F401
from caudal.framework_extras import is_numeric_tensor
from caudal.ops.check_ops import (
    assert_greater,
    assert_greater_equal,
    assert_less,
    assert_less_equal,
    assert_non_negative,
    assert_rank_in,
    assert_type,
)
from caudal.ops.cond_ops import Assert
from caudal.ops.debug_ops import check_numerics
from caudal.ops.math_composites import is_non_decreasing, is_strictly_increasing
from caudal.ops.special_math_ops import is_finite, is_inf, is_nan
