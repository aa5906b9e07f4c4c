"""Checking and shaping the data given to `fit`/`evaluate`/`predict`, with TF-Keras's graph-mode messages.

Inputs and targets become one array per model input or output (a list, a dict by name, or a single
array); 1-D arrays get a trailing axis; shapes are checked against the model's placeholders (batch axis
excluded); sample and class weights become one weight vector per output.
"""
from __future__ import annotations

import collections.abc
from typing import Any

import numpy as np

from caudal.keras import backend as K
from caudal.keras import losses as losses_module

__all__ = ["standardize_input_data", "standardize_weights", "check_array_lengths",
           "check_loss_and_target_compatibility", "standardize_sample_or_class_weights", "slice_arrays",
           "make_batches"]


def standardize_single_array(x: Any, expected_shape: Any = None) -> Any:
    if x is None:
        return None
    if isinstance(x, int):
        raise ValueError(f"Expected an array data type but received an integer: {x}")
    if not hasattr(x, "shape"):
        x = np.asarray(x)
    if len(x.shape) == 1 and (expected_shape is None or len(expected_shape) != 1):
        x = np.expand_dims(x, 1)
    return x


def standardize_input_data(data: Any, names: list[str], shapes: Any = None, check_batch_axis: bool = True,
                           exception_prefix: str = "") -> list[Any]:
    """One array per name, with TF-Keras's errors for missing, extra or misshapen arrays."""
    if not names:
        if data is not None and hasattr(data, "__len__") and len(data) and not isinstance(data, dict):
            raise ValueError(f"Error when checking model {exception_prefix}: expected no data, but got: {data}")
        return []
    if data is None:
        return [None for _ in names]
    if isinstance(data, dict):
        try:
            data = [data[name] for name in names]
        except KeyError as e:
            raise ValueError(f'No data provided for "{e.args[0]}". Need data for each key in: {names}') from None
    elif isinstance(data, (list, tuple)):
        if isinstance(data[0], (list, tuple)):
            data = [np.asarray(d) for d in data]
        elif len(names) == 1 and isinstance(data[0], (float, int)):
            data = [np.asarray(data)]
        else:
            data = list(data)
    else:
        data = [data]
    if shapes is not None:
        data = [standardize_single_array(x, shape) for x, shape in zip(data, shapes)] + \
            [standardize_single_array(x) for x in data[len(shapes):]]
    else:
        data = [standardize_single_array(x) for x in data]
    if len(data) != len(names):
        if data and hasattr(data[0], "shape"):
            raise ValueError(f"Error when checking model {exception_prefix}: the list of Numpy arrays that you are "
                             "passing to your model is not the size the model expected. Expected to see "
                             f"{len(names)} array(s), for inputs {names} but instead got the following list of "
                             f"{len(data)} arrays: {str(data)[:200]}...")
        if len(names) > 1:
            raise ValueError(f"Error when checking model {exception_prefix}: you are passing a list as input to your "
                             f"model, but the model expects a list of {len(names)} Numpy arrays instead. The list you "
                             f"passed was: {str(data)[:200]}")
        raise TypeError(f"Error when checking model {exception_prefix}: data should be a Numpy array, or list/dict of "
                        f"Numpy arrays. Found: {str(data)[:200]}...")
    if shapes:
        for i, name in enumerate(names):
            if shapes[i] is None:
                continue
            data_shape = tuple(data[i].shape)
            shape = tuple(shapes[i])
            if len(data_shape) != len(shape):
                raise ValueError(f"Error when checking {exception_prefix}: expected {name} to have {len(shape)} "
                                 f"dimensions, but got array with shape {data_shape}")
            if not check_batch_axis:
                data_shape, shape = data_shape[1:], shape[1:]
            for dim, ref in zip(data_shape, shape):
                if ref != dim and ref is not None and dim is not None:
                    raise ValueError(f"Error when checking {exception_prefix}: expected {name} to have shape {shape} "
                                     f"but got array with shape {data_shape}")
    return data


def standardize_sample_or_class_weights(weights: Any, output_names: list[str], weight_type: str) -> list[Any]:
    if weights is None or (isinstance(weights, (list, tuple)) and len(weights) == 0):
        return [None for _ in output_names]
    if len(output_names) == 1:
        if isinstance(weights, (list, tuple)) and len(weights) == 1:
            return list(weights)
        if isinstance(weights, dict) and output_names[0] in weights:
            return [weights[output_names[0]]]
        return [weights]
    if isinstance(weights, (list, tuple)):
        if len(weights) != len(output_names):
            raise ValueError(f"Provided `{weight_type}` was a list of {len(weights)} elements, but the model has "
                             f"{len(output_names)} outputs. You should provide one `{weight_type}`array per model "
                             "output.")
        return list(weights)
    if isinstance(weights, collections.abc.Mapping):
        unknown = set(weights.keys()).difference(output_names)
        if unknown:
            raise ValueError(f"Unknown entries in {weight_type} dictionary: {list(unknown)}. Only expected following "
                             f"keys: {output_names}")
        return [weights.get(name) for name in output_names]
    raise TypeError(f"The model has multiple outputs, so `{weight_type}` should be either a list or a dict. Provided "
                    f"`{weight_type}` type not understood: {weights}")


def standardize_weights(y: Any, sample_weight: Any = None, class_weight: Any = None,
                        sample_weight_mode: Any = None) -> Any:
    """The per-sample weights of one output: `sample_weight`, times the class weight of each sample's class."""
    if isinstance(sample_weight, tuple):
        sample_weight = sample_weight[0]
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight)
    if sample_weight_mode is not None and sample_weight_mode != "samplewise":
        if sample_weight_mode != "temporal":
            raise ValueError(f'"sample_weight_mode should be None or "temporal". Found: {sample_weight_mode}')
        if len(y.shape) < 3:
            raise ValueError(f"Found a sample_weight array for an input with shape {y.shape}. Timestep-wise sample "
                             'weighting (use of sample_weight_mode="temporal") is restricted to outputs that are at '
                             "least 3D, i.e. that have a time dimension.")
        if sample_weight is not None and len(sample_weight.shape) != 2:
            raise ValueError(f"Found a sample_weight array with shape {sample_weight.shape}. In order to use "
                             "timestep-wise sample weighting, you should pass a 2D sample_weight array.")
    elif sample_weight is not None and len(sample_weight.shape) != 1:
        raise ValueError(f"Found a sample_weight array with shape {sample_weight.shape}. In order to use timestep-wise "
                         'sample weights, you should specify sample_weight_mode="temporal" in compile(); founssd '
                         f'"{sample_weight_mode}" instead. If you just mean to use sample-wise weights, make sure your '
                         "sample_weight array is 1D.")
    if sample_weight is not None:
        if len(sample_weight.shape) > len(y.shape):
            raise ValueError(f"Found a sample_weight with shape{sample_weight.shape}.Expected sample_weight with rank "
                             f"less than or equal to {len(y.shape)}")
        if y.shape[:sample_weight.ndim] != sample_weight.shape:
            raise ValueError(f"Found a sample_weight array with shape {sample_weight.shape} for an input with shape "
                             f"{y.shape}. sample_weight cannot be broadcast.")
    class_sample_weight = None
    if isinstance(class_weight, dict):
        if len(y.shape) > 2:
            raise ValueError("`class_weight` not supported for 3+ dimensional targets.")
        classes = y
        if len(y.shape) == 2:
            if y.shape[1] > 1:
                classes = np.argmax(y, axis=1)
            elif y.shape[1] == 1:
                classes = np.reshape(y, y.shape[0])
        class_sample_weight = np.asarray([class_weight[c] for c in classes if c in class_weight])
        if len(class_sample_weight) != len(classes):
            missing = set(classes) - set(class_weight.keys())
            raise ValueError(f"`class_weight` must contain all classes in the data. The classes {missing} exist in the "
                             "data but not in `class_weight`.")
    if class_sample_weight is not None and sample_weight is not None:
        return class_sample_weight * sample_weight
    if sample_weight is not None:
        return sample_weight
    return class_sample_weight


def check_array_lengths(inputs: list, targets: list, weights: list | None = None) -> None:
    def lengths(arrays: Any) -> set:
        return {a.shape[0] for a in arrays or [] if a is not None}

    set_x, set_y, set_w = lengths(inputs), lengths(targets), lengths(weights)
    if len(set_x) > 1:
        raise ValueError("All input arrays (x) should have the same number of samples. Got array shapes: "
                         f"{[x.shape for x in inputs]}")
    if len(set_y) > 1:
        raise ValueError("All target arrays (y) should have the same number of samples. Got array shapes: "
                         f"{[y.shape for y in targets]}")
    if set_x and set_y and next(iter(set_x)) != next(iter(set_y)):
        raise ValueError(f"Input arrays should have the same number of samples as target arrays. Found "
                         f"{next(iter(set_x))} input samples and {next(iter(set_y))} target samples.")
    if len(set_w) > 1:
        raise ValueError("All sample_weight arrays should have the same number of samples. Got array shapes: "
                         f"{[w.shape for w in weights if w is not None]}")
    if set_y and set_w and next(iter(set_y)) != next(iter(set_w)):
        raise ValueError(f"Sample_weight arrays should have the same number of samples as target arrays. Got "
                         f"{next(iter(set_y))} input samples and {next(iter(set_w))} target samples.")


def _is_categorical_crossentropy(loss: Any) -> bool:
    return isinstance(loss, losses_module.CategoricalCrossentropy) or (
        isinstance(loss, losses_module.LossFunctionWrapper) and loss.fn is losses_module.categorical_crossentropy)


def check_loss_and_target_compatibility(targets: list, loss_fns: list, output_shapes: list) -> None:
    key_fns = {losses_module.mean_squared_error, losses_module.binary_crossentropy,
               losses_module.categorical_crossentropy}
    key_classes = (losses_module.MeanSquaredError, losses_module.BinaryCrossentropy,
                   losses_module.CategoricalCrossentropy)
    for y, loss, shape in zip(targets, loss_fns, output_shapes):
        if y is None or loss is None:
            continue
        if _is_categorical_crossentropy(loss) and y.shape[-1] == 1:
            raise ValueError(f"You are passing a target array of shape {y.shape} while using as loss "
                             "`categorical_crossentropy`. `categorical_crossentropy` expects targets to be binary "
                             "matrices (1s and 0s) of shape (samples, classes). If your targets are integer classes, "
                             "you can convert them to the expected format via:\n```\nfrom tf_keras.src.utils import "
                             "to_categorical\ny_binary = to_categorical(y_int)\n```\n\nAlternatively, you can use the "
                             "loss function `sparse_categorical_crossentropy` instead, which does expect integer "
                             "targets.")
        wrapped = isinstance(loss, losses_module.LossFunctionWrapper)
        if shape is not None and (isinstance(loss, key_classes) or (wrapped and loss.fn in key_fns)):
            for target_dim, out_dim in zip(y.shape[1:], shape[1:]):
                if out_dim is not None and target_dim != out_dim:
                    raise ValueError(f"A target array with shape {y.shape} was passed for an output of shape {shape} "
                                     f"while using as loss `{loss.name}`. This loss expects targets to have the same "
                                     "shape as the output.")


def slice_arrays(arrays: list, indices: Any) -> list:
    return [None if a is None else a[indices] for a in arrays]


def make_batches(size: int, batch_size: int) -> list[tuple[int, int]]:
    count = int(np.ceil(size / float(batch_size)))
    return [(i * batch_size, min(size, (i + 1) * batch_size)) for i in range(count)]


def input_placeholder_dtype(array: Any) -> str:
    """The placeholder dtype a subclassed model gets for an input array: floatx for floats."""
    dtype = np.asarray(array).dtype
    if np.issubdtype(dtype, np.floating):
        return K.floatx()
    return dtype.name
