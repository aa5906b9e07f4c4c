"""`tf.keras.initializers`, as TF-Keras's graph mode resolves them (the TF1 initializer classes).

Defaults and configs follow TF-Keras with v2 behaviour disabled: `RandomUniform` draws in
[-0.05, 0.05], `RandomNormal`/`TruncatedNormal` have stddev 0.05, configs carry the dtype, and
`he_normal`, `lecun_uniform`, ... are classes whose config is only the seed. `Orthogonal` makes the
Q of the QR decomposition of a normal matrix whose R has a positive diagonal, as TF does (computed as
A (L^T)^-1 with L the Cholesky factor of A^T A, in float64).
"""
from __future__ import annotations

from typing import Any

from caudal import init_ops
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.tensor import Tensor
from caudal.keras.utils.generic_utils import deserialize_keras_object, serialize_keras_object

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomUniform", "RandomNormal", "TruncatedNormal",
           "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal",
           "LecunUniform", "Orthogonal", "Identity", "zeros", "ones", "constant", "uniform", "random_uniform",
           "normal", "random_normal", "truncated_normal", "glorot_uniform", "glorot_normal", "he_normal",
           "he_uniform", "lecun_normal", "lecun_uniform", "orthogonal", "identity", "variance_scaling", "get",
           "serialize", "deserialize"]

Initializer = init_ops.Initializer
Zeros = init_ops.Zeros
Ones = init_ops.Ones
Constant = init_ops.Constant
VarianceScaling = init_ops.VarianceScaling
GlorotUniform = init_ops.GlorotUniform
GlorotNormal = init_ops.GlorotNormal


class RandomUniform(init_ops.RandomUniform):
    def __init__(self, minval: Any = -0.05, maxval: Any = 0.05, seed: int | None = None,
                 dtype: Any = dtypes_lib.float32):
        super().__init__(minval=minval, maxval=maxval, seed=seed, dtype=dtype)


class RandomNormal(init_ops.RandomNormal):
    def __init__(self, mean: Any = 0.0, stddev: Any = 0.05, seed: int | None = None,
                 dtype: Any = dtypes_lib.float32):
        super().__init__(mean=mean, stddev=stddev, seed=seed, dtype=dtype)


class TruncatedNormal(init_ops.TruncatedNormal):
    def __init__(self, mean: Any = 0.0, stddev: Any = 0.05, seed: int | None = None,
                 dtype: Any = dtypes_lib.float32):
        super().__init__(mean=mean, stddev=stddev, seed=seed, dtype=dtype)


class _SeedOnlyScaling(init_ops.VarianceScaling):
    _SCALE = 1.0
    _DISTRIBUTION = "truncated_normal"

    def __init__(self, seed: int | None = None):
        super().__init__(scale=self._SCALE, mode="fan_in", distribution=self._DISTRIBUTION, seed=seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class HeNormal(_SeedOnlyScaling):
    _SCALE = 2.0


class HeUniform(_SeedOnlyScaling):
    _SCALE = 2.0
    _DISTRIBUTION = "uniform"


class LecunNormal(_SeedOnlyScaling):
    pass


class LecunUniform(_SeedOnlyScaling):
    _DISTRIBUTION = "uniform"


class Orthogonal(init_ops.Initializer):
    """A (semi-)orthogonal matrix times `gain`; shapes of rank > 2 are flattened to [prod(rest), last]."""

    def __init__(self, gain: float = 1.0, seed: int | None = None, dtype: Any = dtypes_lib.float32):
        self.gain = gain
        self.seed = seed
        self.dtype = dtypes_lib.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        import caudal as tf

        dims = [int(d) for d in shape]
        if len(dims) < 2:
            raise ValueError(f"The tensor to initialize must be at least two-dimensional. Received: shape={shape} of "
                             f"rank {len(dims)}.")
        dtype = dtypes_lib.as_dtype(dtype or self.dtype).base_dtype
        rows = 1
        for d in dims[:-1]:
            rows *= d
        cols = dims[-1]
        tall = tf.random_normal([max(rows, cols), min(rows, cols)], dtype=tf.float64, seed=self.seed)
        lower = tf.cholesky(tf.matmul(tall, tall, transpose_a=True))
        q = tf.matmul(tall, tf.matrix_inverse(tf.transpose(lower)))
        if rows < cols:
            q = tf.transpose(q)
        return tf.cast(self.gain * tf.reshape(q, dims), dtype)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}


class Identity(init_ops.Initializer):
    """`gain` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain: float = 1.0, dtype: Any = dtypes_lib.float32):
        self.gain = gain
        self.dtype = dtypes_lib.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        import caudal as tf

        dims = [int(d) for d in shape]
        if len(dims) != 2:
            raise ValueError(f"Identity matrix initializer can only be used for 2D matrices. Received: shape={shape} "
                             f"of rank {len(dims)}.")
        dtype = dtypes_lib.as_dtype(dtype or self.dtype).base_dtype
        return self.gain * tf.eye(dims[0], dims[1], dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "dtype": self.dtype.name}


zeros = Zeros
ones = Ones
constant = Constant
uniform = random_uniform = RandomUniform
normal = random_normal = RandomNormal
truncated_normal = TruncatedNormal
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_normal = HeNormal
he_uniform = HeUniform
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
orthogonal = Orthogonal
identity = Identity
variance_scaling = VarianceScaling

_BY_NAME = {
    "Zeros": Zeros, "Ones": Ones, "Constant": Constant, "RandomUniform": RandomUniform,
    "RandomNormal": RandomNormal, "TruncatedNormal": TruncatedNormal, "VarianceScaling": VarianceScaling,
    "GlorotUniform": GlorotUniform, "GlorotNormal": GlorotNormal, "HeNormal": HeNormal, "HeUniform": HeUniform,
    "LecunNormal": LecunNormal, "LecunUniform": LecunUniform, "Orthogonal": Orthogonal, "Identity": Identity,
    "zeros": Zeros, "ones": Ones, "constant": Constant, "uniform": RandomUniform, "random_uniform": RandomUniform,
    "normal": RandomNormal, "random_normal": RandomNormal, "truncated_normal": TruncatedNormal,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_normal": HeNormal, "he_uniform": HeUniform,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform, "orthogonal": Orthogonal, "identity": Identity,
    "variance_scaling": VarianceScaling,
}


def serialize(initializer: Any) -> Any:
    return serialize_keras_object(initializer)


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    return deserialize_keras_object(config, module_objects=_BY_NAME, custom_objects=custom_objects,
                                    printable_module_name="initializer")


def get(identifier: Any) -> Any:
    """An initializer from None, a name, a config dict, an instance or a class."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize(str(identifier))
    if isinstance(identifier, type):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier}")
