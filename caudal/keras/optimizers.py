"""`tf.keras.optimizers` in graph mode: TF-Keras's OptimizerV2 classes (`tf.keras.optimizers.legacy`).

In TF-Keras 2.x graph mode only these optimizers work (the newer ones raise on `compile`), so caudal's
`tf.keras.optimizers.Adam` is this one, and `legacy.Adam` is the same class. As TF-Keras builds them:

- hyperparameters become scalar variables (`<name>/learning_rate`, `beta_1`, ...) when the first update
  is built, so `K.set_value(model.optimizer.lr, 0.01)` changes the rate between steps;
- the step count is the int64 variable `<name>/iter`; slots are `<name>/<variable>/m`, ...;
- `decay` divides the rate by (1 + decay * iterations);
- Adam uses TF's ApplyAdam with beta powers computed from iterations + 1; SGD with momentum applies
  accum = momentum * accum - lr * grad, var += accum (Nesterov: var += momentum * accum - lr * grad);
  RMSprop without momentum: rms = rho * rms + (1 - rho) g^2, var -= lr g / (sqrt(rms) + epsilon);
  Adagrad: accum (initially 0.1) += g^2, var -= lr g / (sqrt(accum) + epsilon).
- `get('adam')`, ... give the defaults; a `tf.train` optimizer is wrapped in `TFOptimizer`.

An Embedding layer's gradient (an IndexedSlices) updates only the looked-up rows where TF-Keras's
sparse update leaves the others alone: SGD (a scatter; with momentum, the rows of the slot too),
RMSprop with momentum and Adadelta (TF's SparseApply ops), Adamax and Nadam (TF-Keras's gathers and
scatters). Adam, Adagrad and RMSprop without momentum apply it as its dense tensor, which gives the
sparse update's values (every row's moments decay in TF-Keras's sparse Adam too). (`TFOptimizer`
passes the gradient to its `tf.train` optimizer.)
"""
from __future__ import annotations

import types
from typing import Any

import caudal as tf
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.tensor import Tensor
from caudal.keras import backend as K
from caudal.keras.utils.generic_utils import deserialize_keras_object

__all__ = ["Optimizer", "OptimizerV2", "SGD", "Adam", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam",
           "TFOptimizer", "get", "serialize", "deserialize", "legacy"]


def _dense(grad: Any) -> Any:
    """A gradient as a Tensor: an IndexedSlices (an Embedding layer's) as its dense tensor."""
    return tf.convert_to_tensor(grad) if isinstance(grad, tf.IndexedSlices) else grad


def _fused(op_type: str, var: Any, slots: list[Any], inputs: list[Any], indices: Any = None, **attrs: Any) -> Any:
    """TF's update op `op_type`(var, *slots, *inputs); a SparseApply op's `indices` go last."""
    dtype = var.dtype.base_dtype
    converted = [tf.cast(t, dtype) for t in inputs]
    attrs = {"T": dtype, "use_locking": False, **attrs}
    if indices is not None:
        converted.append(indices)
        attrs["Tindices"] = indices.dtype.base_dtype
    return var.graph.create_op(op_type, [var._ref()] + [s._ref() for s in slots] + converted, attrs, op_type)


class OptimizerV2:
    """Base class: `get_updates(loss, params)` gives the update ops; `apply_gradients(grads_and_vars)`."""

    _HYPER_ORDER: tuple[str, ...] = ()

    def __init__(self, name: str, gradient_aggregator: Any = None, gradient_transformers: Any = None,
                 **kwargs: Any):
        allowed = {"clipnorm", "clipvalue", "lr", "decay", "global_clipnorm"}
        for key in kwargs:
            if key not in allowed:
                raise TypeError(f"Unexpected keyword argument passed to optimizer: {key}. Allowed kwargs are "
                                f"{allowed}.")
            if kwargs[key] is not None and key != "lr" and kwargs[key] < 0:
                raise ValueError(f"Expected {key} >= 0, received: {kwargs[key]}")
        self._name = name
        self._hyper: dict[str, Any] = {}
        self._slots: dict[int, dict[str, Any]] = {}
        self._slot_names: list[str] = []
        self._weights: list[Any] = []
        self._iterations: Any = None
        self._hypers_created = False
        decay = kwargs.pop("decay", 0.0)
        if decay < 0.0:
            raise ValueError(f"decay cannot be less than 0. Received: decay={decay}.")
        self._initial_decay = decay
        self.clipnorm = kwargs.pop("clipnorm", None)
        self.global_clipnorm = kwargs.pop("global_clipnorm", None)
        self.clipvalue = kwargs.pop("clipvalue", None)
        if self.clipnorm is not None and self.global_clipnorm is not None:
            raise ValueError(f"Cannot accept both `clipnorm` and `global_clipnorm`. Received: `clipnorm`="
                             f"{self.clipnorm}, `global_clipnorm`={self.global_clipnorm}.")

    # ------------------------------------------------------------------------ hyperparameters
    def _set_hyper(self, name: str, value: Any) -> None:
        if isinstance(self._hyper.get(name), tf.Variable):
            K.set_value(self._hyper[name], value)
        else:
            self._hyper[name] = value

    def _get_hyper(self, name: str, dtype: Any = None) -> Any:
        if not self._hypers_created:
            self._create_hypers()
        value = self._hyper[name]
        if callable(value) and not isinstance(value, (Tensor, tf.Variable)):
            value = value()
        if dtype is not None:
            return tf.cast(value, dtype)
        return value

    def _create_hypers(self) -> None:
        if self._hypers_created:
            return
        for name, value in sorted(self._hyper.items()):
            if isinstance(value, (Tensor, tf.Variable)) or callable(value):
                continue
            self._hyper[name] = self._add_weight(name, value)
        self._hypers_created = True

    def _add_weight(self, name: str, value: Any, dtype: Any = None) -> Any:
        dtype = dtypes_lib.as_dtype(dtype or K.floatx())
        variable = tf.Variable(lambda: tf.constant(value, dtype=dtype), name=name, dtype=dtype, trainable=False)
        K.track_variable(variable)
        return variable

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        hyper = self.__dict__.get("_hyper", {})
        if name == "lr":
            name = "learning_rate"
        if name in hyper:
            return self._get_hyper(name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "lr":
            name = "learning_rate"
        if "_hyper" in self.__dict__ and name in self._hyper:
            self._set_hyper(name, value)
        else:
            object.__setattr__(self, name, value)

    @property
    def iterations(self) -> Any:
        if self._iterations is None:
            self._iterations = self._add_weight("iter", 0, dtype=tf.int64)
            self._weights.append(self._iterations)
        return self._iterations

    @iterations.setter
    def iterations(self, variable: Any) -> None:
        self._iterations = variable
        self._weights.append(variable)

    def _decayed_lr(self, dtype: Any) -> Tensor:
        lr = self._get_hyper("learning_rate", dtype)
        if self._initial_decay > 0.0:
            step = tf.cast(self.iterations, dtype)
            lr = lr / (1.0 + tf.cast(self._initial_decay, dtype) * step)
        return lr

    # ---------------------------------------------------------------------------------- slots
    def add_slot(self, var: Any, slot_name: str, initializer: Any = "zeros") -> Any:
        if slot_name not in self._slot_names:
            self._slot_names.append(slot_name)
        slots = self._slots.setdefault(id(var), {})
        if slot_name not in slots:
            from caudal.keras import initializers

            init = initializers.get(initializer)
            shape = var.shape.as_list()
            dtype = var.dtype.base_dtype
            variable = tf.Variable(lambda: init(shape, dtype=dtype), name=f"{var.op.name}/{slot_name}", dtype=dtype,
                                   trainable=False)
            K.track_variable(variable)
            slots[slot_name] = variable
            self._weights.append(variable)
        return slots[slot_name]

    def get_slot(self, var: Any, slot_name: str) -> Any:
        return self._slots[id(var)][slot_name]

    def get_slot_names(self) -> list[str]:
        return list(self._slot_names)

    def _create_slots(self, var_list: list[Any]) -> None:
        pass

    def _create_all_weights(self, var_list: list[Any]) -> None:
        _ = self.iterations
        self._create_hypers()
        self._create_slots(var_list)

    @property
    def weights(self) -> list[Any]:
        return list(self._weights)

    def variables(self) -> list[Any]:
        return list(self._weights)

    def get_weights(self) -> list[Any]:
        return K.batch_get_value(self._weights)

    def set_weights(self, weights: Any) -> None:
        params = self._weights
        if len(params) != len(weights):
            raise ValueError(f"You called `set_weights(weights)` on optimizer {self._name} with a  weight list of "
                             f"length {len(weights)}, but the optimizer was expecting {len(params)} weights. "
                             f"Provided weights: {str(weights)[:50]}...")
        for param, value in zip(params, weights):
            if tuple(param.shape.as_list()) != tuple(getattr(value, "shape", ())):
                raise ValueError(f"Optimizer weight shape {tuple(param.shape.as_list())} not compatible with provided "
                                 f"weight shape {getattr(value, 'shape', ())}")
        K.batch_set_value(list(zip(params, weights)))

    # ---------------------------------------------------------------------------------- updates
    def get_gradients(self, loss: Any, params: list[Any]) -> list[Any]:
        grads = tf.gradients(loss, params)
        for grad, param in zip(grads, params):
            if grad is None:
                raise ValueError(f"Variable {param} has `None` for gradient. Please make sure that all of your ops "
                                 "have a gradient defined (i.e. are differentiable). Common ops without gradient: "
                                 "K.argmax, K.round, K.eval.")
        return self._clip_gradients(grads)

    def _clip_gradients(self, grads: list[Any]) -> list[Any]:
        if self.clipnorm is not None:
            grads = [tf.clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm is not None:
            grads, _ = tf.clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue is not None:
            grads = [tf.clip_by_value(g, -self.clipvalue, self.clipvalue) for g in grads]
        return list(grads)

    def get_updates(self, loss: Any, params: list[Any]) -> list[Any]:
        grads = self.get_gradients(loss, params)
        return [self.apply_gradients(list(zip(grads, params)))]

    def minimize(self, loss: Any, var_list: Any, grad_loss: Any = None, name: str | None = None) -> Any:
        if callable(var_list):
            var_list = var_list()
        if callable(loss):
            loss = loss()
        grads = self._clip_gradients(tf.gradients(loss, var_list, grad_ys=grad_loss))
        return self.apply_gradients(list(zip(grads, var_list)), name=name)

    def apply_gradients(self, grads_and_vars: Any, name: str | None = None, **kwargs: Any) -> Any:
        """The update ops of every (gradient, variable) pair, then `iterations += 1`. An IndexedSlices
        gradient (an Embedding layer's) goes to `_resource_apply_sparse` with its repeated rows summed,
        where the optimizer has one, else it updates the whole variable as its dense tensor."""
        sparse = type(self)._resource_apply_sparse is not OptimizerV2._resource_apply_sparse
        pairs = [(g if sparse else _dense(g), v) for g, v in grads_and_vars if g is not None]
        if not pairs:
            raise ValueError(f"No gradients provided for any variable: {[v.name for _, v in grads_and_vars]}.")
        var_list = [v for _, v in pairs]
        with tf.name_scope(self._name):
            self._create_all_weights(var_list)
        with tf.name_scope(name or self._name):
            coefficients: dict[Any, dict[str, Any]] = {}
            updates = []
            for grad, var in pairs:
                dtype = var.dtype.base_dtype
                if dtype not in coefficients:
                    coefficients[dtype] = self._prepare_local(dtype)
                with tf.name_scope("update_" + var.op.name):
                    if isinstance(grad, tf.IndexedSlices):
                        update = self._resource_apply_sparse_duplicate_indices(grad, var, coefficients[dtype])
                    else:
                        update = self._resource_apply_dense(grad, var, coefficients[dtype])
                    if var.constraint is not None:
                        with tf.control_dependencies([update]):
                            update = tf.assign(var, var.constraint(var))
                updates.append(update)
            with tf.control_dependencies(updates):
                return tf.assign_add(self.iterations, tf.constant(1, dtype=tf.int64)).op

    def _prepare_local(self, dtype: Any) -> dict[str, Any]:
        return {"lr_t": tf.identity(self._decayed_lr(dtype))}

    def _resource_apply_dense(self, grad: Any, var: Any, coefficients: dict[str, Any]) -> Any:
        raise NotImplementedError("Must be implemented in subclasses.")

    def _resource_apply_sparse_duplicate_indices(self, grad: Any, var: Any, coefficients: dict[str, Any]) -> Any:
        """`_resource_apply_sparse` of `grad`'s rows summed per index (TF's Unique and UnsortedSegmentSum)."""
        from caudal.train.optimizer import deduplicate_indexed_slices

        values, indices = deduplicate_indexed_slices(grad.values, grad.indices)
        return self._resource_apply_sparse(values, var, indices, coefficients)

    def _resource_apply_sparse(self, grad: Any, var: Any, indices: Any, coefficients: dict[str, Any]) -> Any:
        """The update of the rows `indices` (distinct) by `grad`; optimizers whose sparse update equals
        their dense one on the other rows (Adam, Adagrad, RMSprop without momentum) have none."""
        raise NotImplementedError
    # ---------------------------------------------------------------------------------- config
    def _serialize_hyperparameter(self, name: str) -> Any:
        value = self._hyper[name]
        if isinstance(value, tf.Variable):
            return float(K.get_value(value))
        if callable(value):
            return value()
        return value

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self._name}
        if self.clipnorm is not None:
            config["clipnorm"] = self.clipnorm
        if self.clipvalue is not None:
            config["clipvalue"] = self.clipvalue
        if self.global_clipnorm is not None:
            config["global_clipnorm"] = self.global_clipnorm
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> OptimizerV2:
        config = dict(config)
        if "lr" in config:
            config["learning_rate"] = config.pop("lr")
        config.pop("is_legacy_optimizer", None)
        return cls(**config)


Optimizer = OptimizerV2


class SGD(OptimizerV2):
    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False, name: str = "SGD",
                 **kwargs: Any):
        super().__init__(name, **kwargs)
        self._set_hyper("learning_rate", kwargs.get("lr", learning_rate))
        self._set_hyper("decay", self._initial_decay)
        self._momentum = not (isinstance(momentum, (int, float)) and momentum == 0)
        if isinstance(momentum, (int, float)) and (momentum < 0 or momentum > 1):
            raise ValueError(f"`momentum` must be between [0, 1]. Received: momentum={momentum} (of type "
                             f"{type(momentum)}).")
        self._set_hyper("momentum", momentum)
        self.nesterov = nesterov

    def _create_slots(self, var_list: list[Any]) -> None:
        if self._momentum:
            for var in var_list:
                self.add_slot(var, "momentum")

    def _prepare_local(self, dtype: Any) -> dict[str, Any]:
        coefficients = super()._prepare_local(dtype)
        coefficients["momentum"] = tf.identity(self._get_hyper("momentum", dtype))
        return coefficients

    def _resource_apply_dense(self, grad: Any, var: Any, coefficients: dict[str, Any]) -> Any:
        lr = coefficients["lr_t"]
        if not self._momentum:
            return _fused("ApplyGradientDescent", var, [], [lr, grad])
        accum = self.get_slot(var, "momentum")
        momentum = coefficients["momentum"]
        new_accum = tf.assign(accum, accum * momentum - lr * grad)
        if self.nesterov:
            return tf.assign_add(var, new_accum * momentum - lr * grad).op
        return tf.assign_add(var, new_accum).op

    def _resource_apply_sparse_duplicate_indices(self, grad: Any, var: Any, coefficients: dict[str, Any]) -> Any:
        if not self._momentum:  # var[indices] -= lr * rows, repeated rows adding up, as TF-Keras
            return tf.scatter_add(var, grad.indices, -grad.values * coefficients["lr_t"]).op
        return super()._resource_apply_sparse_duplicate_indices(grad, var, coefficients)

    def _resource_apply_sparse(self, grad: Any, var: Any, indices: Any, coefficients: dict[str, Any]) -> Any:
        """TF-Keras's sparse momentum on the rows: accum = accum * momentum - lr * grad; var += accum."""
        lr, momentum = coefficients["lr_t"], coefficients["momentum"]
        accum = self.get_slot(var, "momentum")
        new_accum = tf.gather(accum, indices) * momentum - lr * grad
        accum_t = tf.scatter_update(accum, indices, new_accum, use_locking=False)
        step = new_accum * momentum - lr * grad if self.nesterov else new_accum
        with tf.control_dependencies([accum_t]):
            return tf.scatter_add(var, indices, step).op

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"learning_rate": self._serialize_hyperparameter("learning_rate"), "decay": self._initial_decay,
                       "momentum": self._serialize_hyperparameter("momentum"), "nesterov": self.nesterov})
        return config


class Adam(OptimizerV2):
    def __init__(self, learning_rate: Any = 0.001, beta_1: Any = 0.9, beta_2: Any = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, name: str = "Adam", **kwargs: Any):
        super().__init__(name, **kwargs)
        self._set_hyper("learning_rate", kwargs.get("lr", learning_rate))
        self._set_hyper("decay", self._initial_decay)
        self._set_hyper("beta_1", beta_1)
        self._set_hyper("beta_2", beta_2)
        self.epsilon = epsilon or K.epsilon()
        self.amsgrad = amsgrad

    def _create_slots(self, var_list: list[Any]) -> None:
        for var in var_list:
            self.add_slot(var, "m")
        for var in var_list:
            self.add_slot(var, "v")
        if self.amsgrad:
            for var in var_list:
                self.add_slot(var, "vhat")

    def _prepare_local(self, dtype: Any) -> dict[str, Any]:
        coefficients = super()._prepare_local(dtype)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.identity(self._get_hyper("beta_1", dtype))
        beta_2 = tf.identity(self._get_hyper("beta_2", dtype))
        beta_1_power = tf.pow(beta_1, step)
        beta_2_power = tf.pow(beta_2, step)
        coefficients.update(beta_1_t=beta_1, beta_2_t=beta_2, beta_1_power=beta_1_power, beta_2_power=beta_2_power,
                            epsilon=tf.convert_to_tensor(self.epsilon, dtype),
                            lr=coefficients["lr_t"] * (tf.sqrt(1 - beta_2_power) / (1 - beta_1_power)))
        return coefficients

    def _resource_apply_dense(self, grad: Any, var: Any, c: dict[str, Any]) -> Any:
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        if not self.amsgrad:
            return _fused("ApplyAdam", var, [m, v], [c["beta_1_power"], c["beta_2_power"], c["lr_t"], c["beta_1_t"],
                                                     c["beta_2_t"], c["epsilon"], grad], use_nesterov=False)
        vhat = self.get_slot(var, "vhat")
        m_t = tf.assign(m, m * c["beta_1_t"] + grad * (1 - c["beta_1_t"]))
        v_t = tf.assign(v, v * c["beta_2_t"] + tf.square(grad) * (1 - c["beta_2_t"]))
        vhat_t = tf.assign(vhat, tf.maximum(vhat, v_t))
        return tf.assign_sub(var, c["lr"] * m_t / (tf.sqrt(vhat_t) + c["epsilon"])).op

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"learning_rate": self._serialize_hyperparameter("learning_rate"), "decay": self._initial_decay,
                       "beta_1": self._serialize_hyperparameter("beta_1"),
                       "beta_2": self._serialize_hyperparameter("beta_2"), "epsilon": self.epsilon,
                       "amsgrad": self.amsgrad})
        return config


class RMSprop(OptimizerV2):
    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0, epsilon: float = 1e-7,
                 centered: bool = False, name: str = "RMSprop", **kwargs: Any):
        super().__init__(name, **kwargs)
        self._set_hyper("learning_rate", kwargs.get("lr", learning_rate))
        self._set_hyper("decay", self._initial_decay)
        self._set_hyper("rho", rho)
        self._momentum = not (isinstance(momentum, (int, float)) and momentum == 0)
        self._set_hyper("momentum", momentum)
        self.epsilon = epsilon or K.epsilon()
        self.centered = centered

    def _create_slots(self, var_list: list[Any]) -> None:
        for var in var_list:
            self.add_slot(var, "rms")
        if self._momentum:
            for var in var_list:
                self.add_slot(var, "momentum")
        if self.centered:
            for var in var_list:
                self.add_slot(var, "mg")

    def _prepare_local(self, dtype: Any) -> dict[str, Any]:
        coefficients = super()._prepare_local(dtype)
        rho = tf.identity(self._get_hyper("rho", dtype))
        coefficients.update(rho=rho, one_minus_rho=1.0 - rho, epsilon=tf.convert_to_tensor(self.epsilon, dtype),
                            momentum=tf.identity(self._get_hyper("momentum", dtype)))
        return coefficients

    def _resource_apply_dense(self, grad: Any, var: Any, c: dict[str, Any]) -> Any:
        rms = self.get_slot(var, "rms")
        if self._momentum:
            mom = self.get_slot(var, "momentum")
            if self.centered:
                return _fused("ApplyCenteredRMSProp", var, [self.get_slot(var, "mg"), rms, mom],
                              [c["lr_t"], c["rho"], c["momentum"], c["epsilon"], grad])
            return _fused("ApplyRMSProp", var, [rms, mom], [c["lr_t"], c["rho"], c["momentum"], c["epsilon"], grad])
        rms_t = tf.assign(rms, c["rho"] * rms + c["one_minus_rho"] * tf.square(grad))
        denominator = rms_t
        if self.centered:
            mg = self.get_slot(var, "mg")
            mg_t = tf.assign(mg, c["rho"] * mg + c["one_minus_rho"] * grad)
            denominator = rms_t - tf.square(mg_t)
        return tf.assign(var, var - c["lr_t"] * grad / (tf.sqrt(denominator) + c["epsilon"])).op

    def _resource_apply_sparse_duplicate_indices(self, grad: Any, var: Any, c: dict[str, Any]) -> Any:
        if not self._momentum:  # the dense update: every row's mean square decays, as in TF-Keras's sparse path
            return self._resource_apply_dense(_dense(grad), var, c)
        return super()._resource_apply_sparse_duplicate_indices(grad, var, c)

    def _resource_apply_sparse(self, grad: Any, var: Any, indices: Any, c: dict[str, Any]) -> Any:
        """With momentum, TF's SparseApply ops: only the rows move."""
        rms = self.get_slot(var, "rms")
        mom = self.get_slot(var, "momentum")
        hyper = [c["lr_t"], c["rho"], c["momentum"], c["epsilon"], grad]
        if self.centered:
            return _fused("SparseApplyCenteredRMSProp", var, [self.get_slot(var, "mg"), rms, mom], hyper, indices)
        return _fused("SparseApplyRMSProp", var, [rms, mom], hyper, indices)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"learning_rate": self._serialize_hyperparameter("learning_rate"), "decay": self._initial_decay,
                       "rho": self._serialize_hyperparameter("rho"),
                       "momentum": self._serialize_hyperparameter("momentum"), "epsilon": self.epsilon,
                       "centered": self.centered})
        return config


class Adagrad(OptimizerV2):
    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1, epsilon: float = 1e-7,
                 name: str = "Adagrad", **kwargs: Any):
        if initial_accumulator_value < 0.0:
            raise ValueError(f"initial_accumulator_value must be non-negative: {initial_accumulator_value}")
        super().__init__(name, **kwargs)
        self._set_hyper("learning_rate", kwargs.get("lr", learning_rate))
        self._set_hyper("decay", self._initial_decay)
        self._initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon or K.epsilon()

    def _create_slots(self, var_list: list[Any]) -> None:
        from caudal.keras import initializers

        for var in var_list:
            self.add_slot(var, "accumulator", initializers.Constant(self._initial_accumulator_value))

    def _resource_apply_dense(self, grad: Any, var: Any, c: dict[str, Any]) -> Any:
        accum = self.get_slot(var, "accumulator")
        accum_t = tf.assign_add(accum, tf.square(grad))
        epsilon = tf.convert_to_tensor(self.epsilon, var.dtype.base_dtype)
        return tf.assign_sub(var, c["lr_t"] * grad / (tf.sqrt(accum_t) + epsilon)).op

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"learning_rate": self._serialize_hyperparameter("learning_rate"), "decay": self._initial_decay,
                       "initial_accumulator_value": self._initial_accumulator_value, "epsilon": self.epsilon})
        return config


class Adadelta(OptimizerV2):
    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.95, epsilon: float = 1e-7, name: str = "Adadelta",
                 **kwargs: Any):
        super().__init__(name, **kwargs)
        self._set_hyper("learning_rate", kwargs.get("lr", learning_rate))
        self._set_hyper("decay", self._initial_decay)
        self._set_hyper("rho", rho)
        self.epsilon = epsilon or K.epsilon()

    def _create_slots(self, var_list: list[Any]) -> None:
        for var in var_list:
            self.add_slot(var, "accum_grad")
        for var in var_list:
            self.add_slot(var, "accum_var")

    def _resource_apply_dense(self, grad: Any, var: Any, c: dict[str, Any]) -> Any:
        return self._apply("ApplyAdadelta", grad, var, None, c)

    def _resource_apply_sparse(self, grad: Any, var: Any, indices: Any, c: dict[str, Any]) -> Any:
        return self._apply("SparseApplyAdadelta", grad, var, indices, c)

    def _apply(self, op_type: str, grad: Any, var: Any, indices: Any, c: dict[str, Any]) -> Any:
        return _fused(op_type, var, [self.get_slot(var, "accum_grad"), self.get_slot(var, "accum_var")],
                      [c["lr_t"], self._get_hyper("rho", var.dtype.base_dtype),
                       tf.convert_to_tensor(self.epsilon, var.dtype.base_dtype), grad], indices)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"learning_rate": self._serialize_hyperparameter("learning_rate"), "decay": self._initial_decay,
                       "rho": self._serialize_hyperparameter("rho"), "epsilon": self.epsilon})
        return config


class Adamax(Adam):
    """Adam with the infinity norm: v = max(beta_2 v, |g|), var -= lr / (1 - beta_1^t) m / (v + epsilon)."""

    def __init__(self, learning_rate: Any = 0.001, beta_1: Any = 0.9, beta_2: Any = 0.999, epsilon: float = 1e-7,
                 name: str = "Adamax", **kwargs: Any):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad=False, name=name, **kwargs)

    def _resource_apply_dense(self, grad: Any, var: Any, c: dict[str, Any]) -> Any:
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        m_t = tf.assign(m, m * c["beta_1_t"] + grad * (1 - c["beta_1_t"]))
        v_t = tf.assign(v, tf.maximum(c["beta_2_t"] * v, tf.abs(grad)))
        return tf.assign_sub(var, c["lr_t"] / (1 - c["beta_1_power"]) * (m_t / (v_t + c["epsilon"]))).op

    def _resource_apply_sparse(self, grad: Any, var: Any, indices: Any, c: dict[str, Any]) -> Any:
        """TF-Keras's sparse Adamax: m, v and var change at the rows only."""
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        m_t_rows = tf.gather(m, indices) * c["beta_1_t"] + grad * (1 - c["beta_1_t"])
        m_t = tf.scatter_update(m, indices, m_t_rows, use_locking=False)
        v_t_rows = tf.maximum(tf.gather(v, indices) * c["beta_2_t"], tf.abs(grad))
        v_t = tf.scatter_update(v, indices, v_t_rows, use_locking=False)
        step = -c["lr_t"] / (1 - c["beta_1_power"]) * (m_t_rows / (v_t_rows + c["epsilon"]))
        with tf.control_dependencies([m_t, v_t]):
            return tf.scatter_add(var, indices, step).op

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("amsgrad")
        return config


class Nadam(Adam):
    """Adam with Nesterov momentum, with TF-Keras's momentum schedule (decay 0.96 per 250 steps)."""

    def __init__(self, learning_rate: Any = 0.001, beta_1: Any = 0.9, beta_2: Any = 0.999, epsilon: float = 1e-7,
                 name: str = "Nadam", **kwargs: Any):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad=False, name=name, **kwargs)
        self._m_cache: Any = None

    def _create_all_weights(self, var_list: list[Any]) -> None:
        super()._create_all_weights(var_list)
        if self._m_cache is None:
            self._m_cache = self._add_weight("momentum_cache", 1.0)
            self._weights.append(self._m_cache)

    def _prepare_local(self, dtype: Any) -> dict[str, Any]:
        coefficients = super()._prepare_local(dtype)
        step = tf.cast(self.iterations + 1, dtype)
        next_step = tf.cast(self.iterations + 2, dtype)
        beta_1 = coefficients["beta_1_t"]
        decay_base = tf.cast(0.96, dtype)
        m_t = beta_1 * (1.0 - 0.5 * tf.pow(decay_base, step * 0.004))
        m_t_1 = beta_1 * (1.0 - 0.5 * tf.pow(decay_base, next_step * 0.004))
        m_schedule_new = tf.cast(self._m_cache, dtype) * m_t
        coefficients.update(momentum_cache_t=m_t, momentum_cache_t_1=m_t_1, m_schedule_new=m_schedule_new,
                            m_schedule_next=m_schedule_new * m_t_1)
        coefficients["m_cache_update"] = tf.assign(self._m_cache, m_schedule_new)
        return coefficients

    def _resource_apply_dense(self, grad: Any, var: Any, c: dict[str, Any]) -> Any:
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        g_prime = grad / (1.0 - c["m_schedule_new"])
        m_t = tf.assign(m, c["beta_1_t"] * m + (1.0 - c["beta_1_t"]) * grad)
        m_t_prime = m_t / (1.0 - c["m_schedule_next"])
        v_t = tf.assign(v, c["beta_2_t"] * v + (1.0 - c["beta_2_t"]) * tf.square(grad))
        v_t_prime = v_t / (1.0 - c["beta_2_power"])
        m_t_bar = (1.0 - c["momentum_cache_t"]) * g_prime + c["momentum_cache_t_1"] * m_t_prime
        with tf.control_dependencies([c["m_cache_update"]]):
            return tf.assign_sub(var, c["lr_t"] * m_t_bar / (tf.sqrt(v_t_prime) + c["epsilon"])).op

    def _resource_apply_sparse(self, grad: Any, var: Any, indices: Any, c: dict[str, Any]) -> Any:
        """TF-Keras's sparse Nadam: every row's m and v decay, the rows add their gradient, and var changes
        at the rows only."""
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        g_prime = grad / (1.0 - c["m_schedule_new"])
        m_t = tf.assign(m, m * c["beta_1_t"])
        with tf.control_dependencies([m_t]):
            m_t = tf.scatter_add(m, indices, grad * (1.0 - c["beta_1_t"]))
            m_t_rows = tf.gather(m_t, indices)
        m_t_bar = (1.0 - c["momentum_cache_t"]) * g_prime + c["momentum_cache_t_1"] * (
            m_t_rows / (1.0 - c["m_schedule_next"]))
        v_t = tf.assign(v, v * c["beta_2_t"])
        with tf.control_dependencies([v_t]):
            v_t = tf.scatter_add(v, indices, (grad * grad) * (1.0 - c["beta_2_t"]))
            v_t_rows = tf.gather(v_t, indices)
        denominator = tf.sqrt(v_t_rows / (1.0 - c["beta_2_power"])) + c["epsilon"]
        with tf.control_dependencies([c["m_cache_update"]]):
            return tf.scatter_add(var, indices, -c["lr_t"] * m_t_bar / denominator).op

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("amsgrad")
        return config


class TFOptimizer:
    """A `tf.train` optimizer used by `compile`: its `minimize`-style updates, no Keras hyperparameters."""

    def __init__(self, optimizer: Any, iterations: Any = None):
        self.optimizer = optimizer
        self._iterations = iterations

    @property
    def iterations(self) -> Any:
        if self._iterations is None:
            with tf.name_scope("TFOptimizer"):
                self._iterations = K.variable(0, dtype="int64", name="iterations")
        return self._iterations

    def _track(self) -> None:
        for variable in self.optimizer.variables():
            K.track_variable(variable)

    def get_updates(self, loss: Any, params: list[Any]) -> list[Any]:
        grads = self.optimizer.compute_gradients(loss, params)
        update = self.optimizer.apply_gradients(grads, global_step=self.iterations)
        self._track()
        return [update]

    def apply_gradients(self, grads_and_vars: Any, **kwargs: Any) -> Any:
        update = self.optimizer.apply_gradients(grads_and_vars, global_step=self.iterations)
        self._track()
        return update

    @property
    def weights(self) -> list[Any]:
        return list(self.optimizer.variables())

    def variables(self) -> list[Any]:
        return list(self.optimizer.variables())

    def get_weights(self) -> list[Any]:
        return K.batch_get_value(self.weights)

    def set_weights(self, weights: Any) -> None:
        K.batch_set_value(list(zip(self.weights, weights)))

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError("TFOptimizer has no config: a model compiled with a tf.train optimizer is saved "
                                  "without its optimizer")


_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta,
            "adamax": Adamax, "nadam": Nadam}
_CLASSES = {cls.__name__: cls for cls in (SGD, Adam, RMSprop, Adagrad, Adadelta, Adamax, Nadam)}

legacy = types.ModuleType("caudal.keras.optimizers.legacy", "The graph-mode optimizers (the same classes as "
                          "tf.keras.optimizers).")
for _name, _cls in _CLASSES.items():
    setattr(legacy, _name, _cls)
legacy.Optimizer = OptimizerV2


def serialize(optimizer: Any) -> dict[str, Any]:
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    objects = dict(_CLASSES)
    objects.update(_BY_NAME)
    if isinstance(config, dict):
        config = {"class_name": config["class_name"], "config": config.get("config", {})}
        if config["class_name"].lower() in _BY_NAME and config["class_name"] not in _CLASSES:
            config["class_name"] = _BY_NAME[config["class_name"].lower()].__name__
    return deserialize_keras_object(config, module_objects=objects, custom_objects=custom_objects,
                                    printable_module_name="optimizer")


def get(identifier: Any) -> Any:
    """An optimizer from a name ('adam'), a config dict, a Keras optimizer or a `tf.train` optimizer."""
    from caudal.train.optimizer import Optimizer as TFTrainOptimizer

    if isinstance(identifier, (OptimizerV2, TFOptimizer)):
        return identifier
    if isinstance(identifier, TFTrainOptimizer):
        return TFOptimizer(identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize(str(identifier).lower() if str(identifier).lower() in _BY_NAME else str(identifier))
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")
