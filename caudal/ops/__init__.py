"""Op definitions, one module per family. Importing this package registers every op."""
from caudal.ops import (  # noqa: F401 - imported to register the ops
    _broadcast,
    array_ops,
    comparison_ops,
    cond_ops,
    constant_ops,
    control_ops,
    gather_ops,
    math_ops,
    nn_ops,
    random_ops,
    reduction_ops,
    slicing_ops,
    training_ops,
    variable_ops,
)
