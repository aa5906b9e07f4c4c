"""Writes tools/tf1_api_names.txt: every public name of TensorFlow's TF1 API, one "name kind" a line.

Run by hand with TensorFlow installed (TF 2.21 here): `/work/tfref/bin/python tools/make_tf1_api_names.py`.
The names are those of `tf.compat.v1`, walked recursively through TF's API modules (`tf.app.flags`, which is
absl's, one level; `tf.keras` and the `tf.compat.v1.compat` aliases are listed as modules, not walked). TF 2.21
cannot list `tf.layers` and `tf.nn.rnn_cell` without tf_keras, and no longer has `tf.contrib` and
`tf.estimator`: those are added from TF 1.15's documentation (`_TF115_ONLY` below).
"""
import os
import sys
import types

# TF 1.15's documented names that TF 2.21's compat.v1 cannot list here.
_TF115_ONLY = {
    "module": ["tf.contrib", "tf.estimator", "tf.layers.experimental"],
    "class": ["tf.layers." + n for n in [
        "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "BatchNormalization", "Conv1D", "Conv2D",
        "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "Dense", "Dropout", "Flatten", "InputSpec", "Layer",
        "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "SeparableConv1D", "SeparableConv2D"]]
    + ["tf.nn.rnn_cell." + n for n in [
        "BasicLSTMCell", "BasicRNNCell", "DeviceWrapper", "DropoutWrapper", "GRUCell", "LSTMCell", "LSTMStateTuple",
        "MultiRNNCell", "RNNCell", "ResidualWrapper"]],
    "function": ["tf.layers." + n for n in [
        "average_pooling1d", "average_pooling2d", "average_pooling3d", "batch_normalization", "conv1d", "conv2d",
        "conv2d_transpose", "conv3d", "conv3d_transpose", "dense", "dropout", "flatten", "max_pooling1d",
        "max_pooling2d", "max_pooling3d", "separable_conv1d", "separable_conv2d"]],
}


def _walk(module: types.ModuleType, prefix: str, names: dict[str, str], seen: set[int], api: bool = True) -> None:
    try:
        attributes = sorted(dir(module))
    except Exception:  # a lazily loaded module that cannot load here (tf.layers without tf_keras)
        return
    for attribute in attributes:
        if attribute.startswith("_"):
            continue
        try:
            value = getattr(module, attribute)
        except Exception:
            continue
        full = f"{prefix}.{attribute}"
        if isinstance(value, types.ModuleType):
            if not api:
                continue
            names[full] = "module"
            if full == "tf.keras" or full.startswith("tf.compat.v") or id(value) in seen:
                continue
            seen.add(id(value))
            if getattr(value, "__name__", "").startswith("tensorflow._api"):
                _walk(value, full, names, seen)
            elif full == "tf.app.flags":
                _walk(value, full, names, seen, api=False)
        else:
            names[full] = "class" if isinstance(value, type) else ("function" if callable(value) else "constant")


def main() -> None:
    import tensorflow as tf

    names: dict[str, str] = {}
    _walk(tf.compat.v1, "tf", names, set())
    for kind, extra in _TF115_ONLY.items():
        for name in extra:
            names.setdefault(name, kind)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tf1_api_names.txt")
    with open(path, "w") as f:
        f.write(f"# TF1 public API names (tf.compat.v1 of TensorFlow {tf.__version__}, plus TF 1.15-only names);\n"
                "# written by tools/make_tf1_api_names.py. One name and its kind (module, class, function,\n"
                "# constant) a line.\n")
        for name in sorted(names):
            f.write(f"{name} {names[name]}\n")
    print(f"{len(names)} names written to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
