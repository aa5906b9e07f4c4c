"""`tf.estimator.inputs`: `numpy_input_fn` and `pandas_input_fn`."""
from caudal.estimator.inputs.numpy_io import numpy_input_fn, pandas_input_fn

__all__ = ["numpy_input_fn", "pandas_input_fn"]
