"""ConfigProto fields a Session honours: log_device_placement (TF's format, each op once), the BLAS
thread limit of intra_op_parallelism_threads (through threadpoolctl when it is installed), and the
fields that are accepted with nothing to do."""
from __future__ import annotations

import pytest

import caudal as tf
from caudal.runtime import session_config

HOST = "/job:localhost/replica:0/task:0/device:CPU:0"


def test_log_device_placement_prints_each_op_once_in_tensorflows_format(capsys):
    x = tf.placeholder(tf.float32, [2], name="x")
    y = tf.add(x, 1.0)
    z = y * 2.0
    config = tf.ConfigProto(log_device_placement=True)
    with tf.Session(config=config) as sess:
        sess.run(z, {x: [1.0, 2.0]})
        first = capsys.readouterr().out
        sess.run(z, {x: [3.0, 4.0]})
        sess.run(y, {x: [1.0, 2.0]})
        again = capsys.readouterr().out
        v = tf.Variable(1.0, name="v")
        sess.run(v.initializer)
        later = capsys.readouterr().out
    assert first.splitlines() == [f"x: (Placeholder): {HOST}", f"Add/y: (Const): {HOST}", f"Add: (AddV2): {HOST}",
                                  f"mul/y: (Const): {HOST}", f"mul: (Mul): {HOST}"]
    assert again == ""
    assert later.splitlines() == [f"v/initial_value: (Const): {HOST}", f"v: (VariableV2): {HOST}",
                                  f"v/Assign: (Assign): {HOST}"]


def test_without_log_device_placement_nothing_is_printed(capsys):
    with tf.Session(config=tf.ConfigProto(allow_soft_placement=True, inter_op_parallelism_threads=2,
                                          device_count={"CPU": 1})) as sess:
        assert sess.run(tf.constant(1.0) + 1.0) == 2.0
    assert capsys.readouterr().out == ""


def test_intra_op_parallelism_threads_limits_the_blas_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    blas = [info for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]
    if not blas:
        pytest.skip("NumPy's BLAS is not visible to threadpoolctl")
    original = {info["filepath"]: info["num_threads"] for info in blas}
    try:
        tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=1)).close()
        assert {info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"} == {1}
    finally:
        threadpoolctl.threadpool_limits(limits=max(original.values()), user_api="blas")


def test_thread_limits_are_skipped_without_a_setting_or_without_threadpoolctl(monkeypatch):
    assert not session_config.apply_thread_limits(tf.ConfigProto())
    monkeypatch.setitem(__import__("sys").modules, "threadpoolctl", None)
    assert not session_config.apply_thread_limits(tf.ConfigProto(intra_op_parallelism_threads=2))


def test_config_must_be_a_config_proto():
    with pytest.raises(TypeError, match="config must be a tf.ConfigProto, but got <class 'dict'>"):
        tf.Session(config={"log_device_placement": True})
