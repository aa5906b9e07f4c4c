"""tf.estimator.RunConfig (defaults, replace, TF_CONFIG) and the input functions numpy_input_fn and
pandas_input_fn: TF's batches, epochs, end of input and errors (values checked against TF 2.15)."""
import json

import numpy as np
import pytest

import caudal as tf
import caudal.estimator as estimator
from caudal.estimator.inputs import numpy_input_fn, pandas_input_fn

CLUSTER = {"chief": ["host0:2222"], "worker": ["host1:2222", "host2:2222"], "ps": ["host3:2222"]}


def _config_with(monkeypatch, tf_config):
    monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))
    return estimator.RunConfig()


# ------------------------------------------------------------------ RunConfig
def test_run_config_defaults_and_replace(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    c = estimator.RunConfig()
    assert (c.model_dir, c.tf_random_seed, c.save_summary_steps, c.save_checkpoints_steps,
            c.save_checkpoints_secs, c.keep_checkpoint_max, c.keep_checkpoint_every_n_hours,
            c.log_step_count_steps, c.session_config) == (None, None, 100, None, 600, 5, 10000, 100, None)
    assert (c.task_type, c.task_id, c.is_chief, c.master, c.num_worker_replicas, c.num_ps_replicas) == (
        "worker", 0, True, "", 1, 0)
    assert not c.cluster_spec
    steps = estimator.RunConfig(save_checkpoints_steps=10)
    assert (steps.save_checkpoints_steps, steps.save_checkpoints_secs) == (10, None)
    secs = steps.replace(save_checkpoints_secs=5)
    assert (secs.save_checkpoints_steps, secs.save_checkpoints_secs) == (None, 5)
    assert steps.save_checkpoints_steps == 10
    assert steps.replace(tf_random_seed=3, model_dir="/m").tf_random_seed == 3


@pytest.mark.parametrize("make, message", [
    (lambda: estimator.RunConfig(save_checkpoints_steps=1, save_checkpoints_secs=2),
     "`save_checkpoints_steps` and `save_checkpoints_secs` cannot be both set."),
    (lambda: estimator.RunConfig().replace(foo=1), "Replacing foo is not supported. Allowed properties are "
                                                   "['model_dir', 'tf_random_seed', "),
    (lambda: estimator.RunConfig(keep_checkpoint_max=-1), "keep_checkpoint_max should be >= 0"),
    (lambda: estimator.RunConfig(log_step_count_steps=0), "log_step_count_steps should be > 0"),
    (lambda: estimator.RunConfig(tf_random_seed=1.5), "tf_random_seed must be integer."),
    (lambda: estimator.RunConfig(model_dir=""), "model_dir should be non-empty."),
    (lambda: estimator.RunConfig(session_config=3), "session_config must be instance of ConfigProto"),
])
def test_run_config_errors(make, message, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError) as info:
        make()
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("task, expected", [
    ({"type": "worker", "index": 1}, ("worker", 1, False, "grpc://host2:2222", 3, 1, 2)),
    ({"type": "chief", "index": 0}, ("chief", 0, True, "grpc://host0:2222", 3, 1, 0)),
    ({"type": "ps", "index": 0}, ("ps", 0, False, "grpc://host3:2222", 3, 1, 3)),
    ({"type": "evaluator", "index": 0}, ("evaluator", 0, False, "", 0, 0, None)),
])
def test_tf_config_is_parsed_as_tf(monkeypatch, task, expected):
    c = _config_with(monkeypatch, {"cluster": CLUSTER, "task": task})
    assert (c.task_type, c.task_id, c.is_chief, c.master, c.num_worker_replicas, c.num_ps_replicas,
            c.global_id_in_cluster) == expected
    assert c.cluster_spec.as_dict() == ({} if task["type"] == "evaluator" else CLUSTER)
    assert c.evaluation_master == ""


def test_tf_config_with_master_and_model_dir(monkeypatch):
    c = _config_with(monkeypatch, {"cluster": {"master": ["m:1"], "worker": ["w:1"]},
                                   "task": {"type": "master", "index": 0}, "model_dir": "/models/a"})
    assert (c.task_type, c.is_chief, c.master, c.num_worker_replicas, c.global_id_in_cluster) == (
        "master", True, "grpc://m:1", 2, 0)
    assert c.model_dir == "/models/a"


@pytest.mark.parametrize("tf_config, message", [
    ({"cluster": CLUSTER, "task": {"type": "worker"}}, 'If "cluster" is set in TF_CONFIG, task index must be set.'),
    ({"cluster": CLUSTER, "task": {"type": "worker", "index": 5}}, "5 is not a valid task_id for task_type worker"),
    ({"cluster": CLUSTER, "task": {"type": "foo", "index": 0}}, "foo is not a valid task_type in the cluster_spec"),
    ({"task": {"type": "ps", "index": 0}}, 'If "cluster" is not set in TF_CONFIG, task type must be WORKER.'),
    ({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 0}},
     'If "cluster" is set in TF_CONFIG, it must have one "chief" node.'),
    ({"model_dir": ""}, "model_dir in TF_CONFIG should be non-empty."),
])
def test_tf_config_errors(monkeypatch, tf_config, message):
    with pytest.raises(ValueError) as info:
        _config_with(monkeypatch, tf_config)
    assert str(info.value).startswith(message)


def test_train_refuses_parameter_server_and_evaluator_tasks(monkeypatch, tmp_path):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": CLUSTER, "task": {"type": "ps", "index": 0}}))
    e = estimator.Estimator(lambda features, labels, mode: None, model_dir=str(tmp_path))
    with pytest.raises(ValueError, match="Train has been called wrong configuration. Please use "
                                         "tf.estimator.train_and_evaluate"):
        e.train(lambda: ({"x": tf.constant([1.0])}, tf.constant([1.0])), steps=1)


# ------------------------------------------------------------------ numpy_input_fn
def _batches(input_fn, limit=20):
    with tf.Graph().as_default():
        result = input_fn()
        out = []
        with tf.train.MonitoredSession() as session:
            while not session.should_stop() and len(out) < limit:
                out.append(session.run(result))
        return result, out


def test_numpy_input_fn_batches_run_on_across_epochs_and_end_short():
    x = {"b": np.arange(10, dtype=np.float64), "a": np.arange(10, 20, dtype=np.int64)}
    y = np.arange(100, 110, dtype=np.int32)
    (features, labels), batches = _batches(numpy_input_fn(x, y, batch_size=4, num_epochs=2, shuffle=False))
    assert sorted(features) == ["a", "b"]
    assert features["b"].dtype == tf.float64 and features["a"].dtype == tf.int64 and labels.dtype == tf.int32
    assert features["b"].shape.as_list() == [None] and labels.shape.as_list() == [None]
    assert [list(b[1]) for b in batches] == [[100, 101, 102, 103], [104, 105, 106, 107], [108, 109, 100, 101],
                                            [102, 103, 104, 105], [106, 107, 108, 109]]
    assert [list(b[0]["a"]) for b in batches][2] == [18, 19, 10, 11]


def test_numpy_input_fn_one_epoch_ends_with_a_short_batch():
    (features, labels), batches = _batches(numpy_input_fn({"x": np.arange(10)}, np.arange(10), batch_size=4,
                                                          shuffle=False))
    assert [len(b[1]) for b in batches] == [4, 4, 2]


def test_numpy_input_fn_forever_has_a_static_batch_size():
    features, batches = _batches(numpy_input_fn(np.arange(6, dtype=np.float32).reshape(3, 2), batch_size=2,
                                                num_epochs=None, shuffle=False), limit=4)
    assert features.shape.as_list() == [2, 2]
    np.testing.assert_array_equal(np.concatenate(batches)[:, 0], [0, 2, 4, 0, 2, 4, 0, 2])


def test_numpy_input_fn_shuffle_sees_every_row_once_per_epoch_and_dict_targets():
    x = {"x": np.arange(50)}
    y = {"t": np.arange(50) * 2, "u": np.arange(50) * 3}
    (features, labels), batches = _batches(numpy_input_fn(x, y, batch_size=7, num_epochs=1, shuffle=True,
                                                          queue_capacity=16), limit=100)
    seen = np.concatenate([b[0]["x"] for b in batches])
    assert sorted(seen) == list(range(50)) and list(seen) != list(range(50))
    assert sorted(labels) == ["t", "u"]
    np.testing.assert_array_equal(np.concatenate([b[1]["t"] for b in batches]), seen * 2)


def test_numpy_input_fn_strings_and_multidimensional_features():
    x = {"s": np.array(["a", "bb", "c"]), "m": np.ones((3, 2, 2), np.float32)}
    features, batches = _batches(numpy_input_fn(x, batch_size=2, shuffle=False))
    assert features["s"].dtype == tf.string and features["m"].shape.as_list() == [None, 2, 2]
    assert list(batches[0]["s"]) == [b"a", b"bb"] and batches[1]["m"].shape == (1, 2, 2)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(x={"a": np.ones(3)}, shuffle=None), ValueError,
     "shuffle must be provided and explicitly set as boolean (it is recommended to set it as True for training); "
     "got None"),
])
def test_numpy_input_fn_argument_errors(kwargs, error, message):
    with pytest.raises(error) as info:
        numpy_input_fn(**kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize("x, y, error, message", [
    ({}, None, ValueError, "x cannot be an empty dict"),
    (np.zeros((0, 2)), None, ValueError, "x cannot be an empty array"),
    ([1, 2], None, TypeError, "x must be a dict or array; got list"),
    ({"a": np.ones(3)}, {}, ValueError, "y cannot be empty dict, use None instead."),
    ({"a": np.ones(3)}, {"a": np.ones(3)}, ValueError, "1 duplicate keys are found in both x and y: {'a'}"),
    ({"a": np.ones(3)}, np.ones(4), ValueError, "Length of tensors in x and y is mismatched. All elements in x and "
                                                "y must have the same length.\nShapes in x: {'a': (3,)}\nShapes in "
                                                "y: (4,)\n"),
])
def test_numpy_input_fn_data_errors_when_called(x, y, error, message):
    input_fn = numpy_input_fn(x, y, shuffle=False)
    with pytest.raises(error) as info:
        input_fn()
    assert str(info.value) == message


def test_pandas_input_fn_without_pandas_raises_tfs_error():
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(TypeError, match="^pandas_input_fn should not be called without pandas installed$"):
            pandas_input_fn(None, shuffle=False)
    else:
        frame = pandas.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4, 5, 6]})
        (features, labels), batches = _batches(pandas_input_fn(frame, pandas.Series([7, 8, 9]), batch_size=2,
                                                               shuffle=False))
        assert sorted(features) == ["a", "b"]
        assert [list(b[1]) for b in batches] == [[7, 8], [9]]
