"""Choosing a backend by name: $CAUDAL_BACKEND, tf.ConfigProto's experimental.executor_type, the
registry's errors; and the `portable` backend (portable kernels only) running whole programs with
the numbers the `numpy` backend (its variants) gives."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import caudal as tf
from caudal import backends
from tests import test_seed_programs
from tests.test_seed_programs import PROGRAMS


def _config(executor_type: str) -> tf.ConfigProto:
    config = tf.ConfigProto()
    config.experimental.executor_type = executor_type
    return config


# ------------------------------------------------------------------ choosing
def _default() -> str:
    from caudal.backends import fast_cpu

    return "fast_cpu" if fast_cpu.installed() else "numpy"


def test_numpy_is_the_default_without_the_fast_extra(monkeypatch) -> None:
    from caudal.backends import fast_cpu

    monkeypatch.delenv("CAUDAL_BACKEND", raising=False)
    monkeypatch.setattr(fast_cpu, "installed", lambda: False)
    with tf.Session() as sess:
        assert sess._backend.name == "numpy"
    with tf.Session(config=tf.ConfigProto()) as sess:
        assert sess._backend.name == "numpy"


def test_the_environment_variable_chooses(monkeypatch) -> None:
    monkeypatch.setenv("CAUDAL_BACKEND", "portable")
    with tf.Session() as sess:
        assert sess._backend.name == "portable"
    monkeypatch.setenv("CAUDAL_BACKEND", "")
    with tf.Session() as sess:
        assert sess._backend.name == _default()


def test_the_config_chooses_over_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("CAUDAL_BACKEND", "numpy")
    with tf.Session(config=_config("portable")) as sess:
        assert sess._backend.name == "portable"
    monkeypatch.setenv("CAUDAL_BACKEND", "portable")
    with tf.Session(config=_config("numpy")) as sess:
        assert sess._backend.name == "numpy"
    sess = tf.InteractiveSession(config=_config("numpy"))
    assert sess._backend.name == "numpy"
    sess.close()


@pytest.mark.parametrize("tf_executor", ["DEFAULT", "SINGLE_THREADED_EXECUTOR"])
def test_tensorflows_own_executor_names_choose_no_backend(monkeypatch, tf_executor: str) -> None:
    monkeypatch.setenv("CAUDAL_BACKEND", "portable")
    with tf.Session(config=_config(tf_executor)) as sess:
        assert sess._backend.name == "portable"


def test_an_unknown_name_is_a_value_error_listing_the_backends(monkeypatch) -> None:
    monkeypatch.setenv("CAUDAL_BACKEND", "jacks")
    with pytest.raises(ValueError) as info:
        tf.Session()
    assert str(info.value) == ("Unknown caudal backend 'jacks' (from $CAUDAL_BACKEND); known backends: fast_cpu, jax, "
                               "numpy, portable")
    monkeypatch.delenv("CAUDAL_BACKEND")
    with pytest.raises(ValueError) as info:
        tf.Session(config=_config("gpu"))
    assert str(info.value) == ("Unknown caudal backend 'gpu' (from ConfigProto.experimental.executor_type); "
                               "known backends: fast_cpu, jax, numpy, portable")


def test_config_must_be_a_config_proto() -> None:
    with pytest.raises(TypeError, match="config must be a tf.ConfigProto, but got <class 'dict'>"):
        tf.Session(config={"allow_soft_placement": True})


def test_the_registry() -> None:
    assert {"numpy", "portable"} <= set(backends.backend_names())
    assert backends.get_backend("portable").name == "portable"
    assert backends.get_backend("numpy").xp is np
    with pytest.raises(KeyError, match="already registered"):
        backends.register_backend("numpy", lambda: None)
    with pytest.raises(ValueError,
                       match="Unknown caudal backend 'nope'; known backends: fast_cpu, jax, numpy, portable"):
        backends.get_backend("nope")


def test_import_loads_no_protobuf_and_no_optional_extra() -> None:
    code = ("import sys, caudal as tf\n"
            "loaded = [m for m in ('google.protobuf', 'jax', 'numba', 'threadpoolctl',"
            " 'caudal.backends.numpy_backend', 'caudal.backends.fast_cpu', 'caudal.proto.config_pb2')"
            " if m in sys.modules]\n"
            "assert not loaded, loaded\n"
            "assert tf.ConfigProto().experimental.executor_type == ''\n"
            "assert 'google.protobuf' in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------- ConfigProto
# TensorFlow 2.21's field numbers (tensorflow/core/protobuf/config.proto).
_TF_FIELDS = {
    "ConfigProto": {"device_count": 1, "intra_op_parallelism_threads": 2, "inter_op_parallelism_threads": 5,
                    "use_per_session_threads": 9, "placement_period": 3, "device_filters": 4, "gpu_options": 6,
                    "allow_soft_placement": 7, "log_device_placement": 8, "graph_options": 10,
                    "operation_timeout_in_ms": 11, "isolate_session_state": 15,
                    "share_cluster_devices_in_session": 17, "experimental": 16},
    "ConfigProto.Experimental": {"collective_group_leader": 1, "executor_type": 3, "recv_buf_max_chunk": 4,
                                 "use_numa_affinity": 5, "disable_thread_spinning": 9,
                                 "share_cluster_devices_in_session": 10, "optimize_for_static_graph": 12,
                                 "disable_output_partition_graphs": 14},
    "GPUOptions": {"per_process_gpu_memory_fraction": 1, "allow_growth": 4, "allocator_type": 2,
                   "deferred_deletion_bytes": 3, "visible_device_list": 5, "polling_active_delay_usecs": 6,
                   "polling_inactive_delay_msecs": 7, "force_gpu_compatible": 8},
    "GraphOptions": {"enable_recv_scheduling": 2, "optimizer_options": 3, "build_cost_model": 4,
                     "build_cost_model_after": 9, "infer_shapes": 5, "place_pruned_graph": 6,
                     "enable_bfloat16_sendrecv": 7, "timeline_step": 8},
    "OptimizerOptions": {"do_common_subexpression_elimination": 1, "do_constant_folding": 2,
                         "max_folded_constant_in_bytes": 6, "do_function_inlining": 4, "opt_level": 3,
                         "global_jit_level": 5, "cpu_global_jit": 7},
}


@pytest.mark.parametrize("message", sorted(_TF_FIELDS))
def test_config_messages_have_tensorflows_field_names_and_numbers(message: str) -> None:
    cls = tf.ConfigProto.Experimental if message == "ConfigProto.Experimental" else getattr(tf, message)
    assert {f.name: f.number for f in cls.DESCRIPTOR.fields} == _TF_FIELDS[message]


def test_a_config_serializes_as_tensorflow_serializes_it() -> None:
    config = tf.ConfigProto(device_count={"GPU": 0}, intra_op_parallelism_threads=2,
                            gpu_options=tf.GPUOptions(allow_growth=True, per_process_gpu_memory_fraction=0.5,
                                                      visible_device_list="0"),
                            graph_options=tf.GraphOptions(
                                optimizer_options=tf.OptimizerOptions(opt_level=tf.OptimizerOptions.L0)),
                            allow_soft_placement=True, log_device_placement=False, operation_timeout_in_ms=1000)
    config.experimental.executor_type = "portable"
    # The same message built in TensorFlow 2.21, serialized.
    assert config.SerializeToString().hex() == (
        "0a070a0347505510001002320e09000000000000e03f20012a01303801520d1a0b18ffffffffffffffffff0158e807"
        "82010a1a08706f727461626c65")
    with tf.Session(config=config) as sess:
        assert sess._backend.name == "portable"
        assert sess.run(tf.constant(2.0) * 3.0) == 6.0


# ------------------------------------------------------- the portable backend
def _program_output(name: str, backend: str) -> list[str]:
    result = subprocess.run([sys.executable, str(PROGRAMS / name)], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "CAUDAL_BACKEND": backend})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()


@pytest.mark.parametrize("test", ["test_basics", "test_bisection", "test_perceptron", "test_circle_learns"])
def test_seed_programs_on_the_portable_backend(monkeypatch, test: str) -> None:
    """tests/test_seed_programs.py's checks, with the programs run on the portable backend."""
    monkeypatch.setenv("CAUDAL_BACKEND", "portable")
    getattr(test_seed_programs, test)()


_NUMBER = re.compile(r"-?\d+\.?\d*(?:e[-+]?\d+)?")


@pytest.mark.parametrize("program", ["basics.py", "bisection.py", "perceptron.py", "circle.py"])
def test_seed_programs_print_the_same_on_both_backends(program: str) -> None:
    portable, numpy = _program_output(program, "portable"), _program_output(program, "numpy")
    assert len(portable) == len(numpy)
    for p, n in zip(portable, numpy):
        assert _NUMBER.sub("#", p).split() == _NUMBER.sub("#", n).split()
        np.testing.assert_allclose([float(v) for v in _NUMBER.findall(p)], [float(v) for v in _NUMBER.findall(n)],
                                   rtol=1e-5, atol=1e-6, err_msg=f"{program}: {p!r} vs {n!r}")


def _mlp_steps(backend: str, steps: int = 3) -> list[np.ndarray]:
    """A small MLP (ReLU, dropout, bias, softmax cross-entropy, Adam): the loss of each step and
    the final weights."""
    rng = np.random.default_rng(0)
    x_value = rng.random((32, 20), dtype=np.float32)
    y_value = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 32)]
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [None, 20])
        y = tf.placeholder(tf.float32, [None, 4])
        keep = tf.placeholder(tf.float32)
        h = x
        for i, units in enumerate([16, 8]):
            w = tf.Variable(tf.truncated_normal([int(h.shape[1]), units], stddev=0.3), name=f"w{i}")
            b = tf.Variable(tf.fill([units], 0.1), name=f"b{i}")
            h = tf.nn.dropout(tf.nn.relu(tf.matmul(h, w) + b), keep)
        w_out = tf.Variable(tf.truncated_normal([8, 4], stddev=0.3), name="w_out")
        logits = tf.nn.bias_add(tf.matmul(h, w_out), tf.Variable(tf.zeros([4]), name="b_out"))
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        train = tf.train.AdamOptimizer(0.01).minimize(loss)
        config = tf.ConfigProto()
        config.experimental.executor_type = backend
        with tf.Session(config=config) as sess:
            assert sess._backend.name == backend
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([loss, train], {x: x_value, y: y_value, keep: 0.75})[0] for _ in range(steps)]
            return [np.array(losses)] + sess.run(tf.trainable_variables())


def _cnn_steps(backend: str, steps: int = 2) -> list[np.ndarray]:
    """A small CNN (SAME and VALID convolutions, max and average pooling, RMSProp)."""
    rng = np.random.default_rng(1)
    images = rng.random((6, 10, 10, 2), dtype=np.float32)
    labels = rng.integers(0, 3, 6)
    with tf.Graph().as_default() as graph:
        tf.set_random_seed(2)
        x = tf.placeholder(tf.float32, [None, 10, 10, 2])
        w1 = tf.Variable(tf.truncated_normal([3, 3, 2, 8], stddev=0.2))
        h = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(x, w1, [1, 1, 1, 1], "SAME")), [1, 2, 2, 1], [1, 2, 2, 1],
                           "SAME")
        w2 = tf.Variable(tf.truncated_normal([2, 2, 8, 6], stddev=0.2))
        h = tf.nn.avg_pool(tf.nn.conv2d(h, w2, [1, 2, 2, 1], "VALID"), [1, 2, 2, 1], [1, 1, 1, 1], "SAME")
        logits = tf.layers.dense(tf.reshape(h, [-1, 2 * 2 * 6]), 3)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        train = tf.train.RMSPropOptimizer(0.01, momentum=0.9).minimize(loss)
        with tf.Session(graph=graph, config=_config(backend)) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([loss, train], {x: images})[0] for _ in range(steps)]
            return [np.array(losses)] + sess.run(tf.trainable_variables())


@pytest.mark.parametrize("model", [_mlp_steps, _cnn_steps], ids=["mlp", "cnn"])
def test_training_steps_on_the_portable_backend_match_numpy(model) -> None:
    portable, numpy = model("portable"), model("numpy")
    assert len(portable) == len(numpy)
    for p, n in zip(portable, numpy):
        assert p.dtype == n.dtype and p.shape == n.shape
        np.testing.assert_allclose(p, n, rtol=1e-5, atol=1e-5)


def test_seeded_random_numbers_are_those_caudal_drew_before_the_seam() -> None:
    """The random kernels build on the backend stream's primitive draws; on NumPy they give the
    numbers they gave when they drew from the generator directly (recorded before the change)."""
    with tf.Graph().as_default():
        tf.set_random_seed(7)
        fetches = [tf.random_uniform([4]), tf.random_normal([4], dtype=tf.float64), tf.truncated_normal([40]),
                   tf.random_uniform([5], 0, 100, dtype=tf.int32), tf.random_shuffle(tf.range(8)),
                   tf.multinomial([[0.0, 1.0, 2.0]], 6, seed=1)]
        for backend in ("numpy", "portable"):
            with tf.Session(config=_config(backend)) as sess:
                uniform, normal, truncated, integers, shuffled, samples = sess.run(fetches)
            np.testing.assert_array_equal(uniform, np.float32([0.7279179692268372, 0.9750335216522217,
                                                               0.5381985902786255, 0.8845672011375427]))
            np.testing.assert_array_equal(normal, [-0.6254022653390364, 2.4231106701938367, -0.8129875247713951,
                                                   -0.4259009853720369])
            np.testing.assert_array_equal(truncated[[0, 17, 31, 39]], np.float32(
                [0.10036168992519379, 1.3351402282714844, -1.739269733428955, -0.2534743547439575]))
            np.testing.assert_allclose(truncated.sum(), 0.1595912, rtol=1e-6)
            np.testing.assert_array_equal(integers, [37, 91, 66, 18, 82])
            np.testing.assert_array_equal(shuffled, [6, 7, 4, 1, 2, 0, 3, 5])
            np.testing.assert_array_equal(samples, [[2, 1, 1, 1, 2, 2]])
