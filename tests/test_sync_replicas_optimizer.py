"""tf.train.SyncReplicasOptimizer in one process: the graph it builds and what replicas running from
threads get (tokens, global steps, averaged updates, stale gradients dropped), against what TensorFlow
2.21 gives (tests/fixtures/sync_replicas/tf_reference.json, made by
tests/fixtures/make_sync_replicas_fixtures.py); its errors; and the variable reads it relies on."""
from __future__ import annotations

import json
import logging
import pathlib
import threading

import numpy as np
import pytest

import caudal as tf
from caudal.framework.device_spec import DeviceSpec
from caudal.runtime.distributed.partition import place
from tests.fixtures import sync_replicas_scenarios as scenarios

REFERENCE = json.loads((pathlib.Path(__file__).parent / "fixtures" / "sync_replicas" / "tf_reference.json")
                       .read_text())


def _task(device: str) -> str:
    spec = DeviceSpec.from_string(device)
    return f"/job:{spec.job}/task:{spec.task}"


def _per_device_group_noop(name: str) -> bool:
    """TF's tf.group makes one NoOp per device under the group's name (`group_deps/NoOp_1`); caudal's
    group is one NoOp."""
    return "/NoOp" in name and (name.split("/NoOp")[0].endswith("group_deps") or name.split("/NoOp")[0].endswith(
        "update"))


# ------------------------------------------------------------------ the graph
def test_ops_names_types_and_placement_match_tf() -> None:
    theirs = REFERENCE["graph"]
    mine = scenarios.graph_summary(tf)
    expected = {name: [kind, _task(device)] for name, (kind, device) in theirs["ops"].items()
                if not _per_device_group_noop(name)}
    # Where the ops run is compared by test_ops_run_on_the_tasks_tf_places_them (TF colocates with
    # `_class` attrs, caudal's placer follows the references).
    assert {name: kind for name, (kind, _) in mine["ops"].items()} == {name: kind for name, (kind, _) in
                                                                      expected.items()}
    for key in ("train_op", "local_variables", "global_variables", "local_step_init_op", "queue_runner",
                "init_tokens", "train_op_collection", "queue_runner_collection", "variables", "slot_names"):
        assert mine[key] == theirs[key], key
    assert mine["chief_init_op"][0] == theirs["chief_init_op"][0]


def test_ops_run_on_the_tasks_tf_places_them() -> None:
    theirs = REFERENCE["graph"]["ops"]
    graph = tf.Graph()
    with graph.as_default():
        with tf.device(tf.train.replica_device_setter(worker_device="/job:worker/task:1",
                                                      cluster=scenarios.CLUSTER)):
            x = tf.placeholder(tf.float32, [2], name="x")
            w = tf.Variable(scenarios.INITIAL_W, name="w")
            b = tf.Variable(0.5, name="b")
            global_step = tf.train.get_or_create_global_step()
            opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.5), replicas_to_aggregate=2,
                                                 total_num_replicas=3)
            opt.minimize(tf.reduce_sum(w * x) + b, global_step=global_step)
            opt.get_init_tokens_op()
            opt.get_init_tokens_op(0)
    ops = [op for op in graph.get_operations() if op.name in theirs]
    tasks = place(ops, tf.train.ClusterSpec(scenarios.CLUSTER), ("worker", 1))
    assert {op.name: f"/job:{tasks[op][0]}/task:{tasks[op][1]}" for op in ops} == \
           {op.name: _task(theirs[op.name][1]) for op in ops}
    # the local step lives with its replica, the accumulators with their variables
    assert tasks[graph.get_operation_by_name("sync_rep_local_step")] == ("worker", 1)
    assert tasks[graph.get_operation_by_name("sync_replicas/conditional_accumulator_1")] == ("ps", 1)


def test_tokens_per_step_is_the_larger_of_total_and_aggregated_replicas() -> None:
    with tf.Graph().as_default() as graph:
        global_step = tf.train.get_or_create_global_step()
        w = tf.Variable(1.0, name="w")
        opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.5), replicas_to_aggregate=2,
                                             total_num_replicas=3)
        opt.minimize(w * 2.0, global_step=global_step)
        opt.get_init_tokens_op()
        assert tf.get_static_value(graph.get_tensor_by_name("Fill/dims:0")).tolist() == [3]
        assert tf.get_static_value(graph.get_tensor_by_name("Fill_1/dims:0")).tolist() == [2]  # the init tokens


def test_accumulators_are_shared_by_variable_name_and_average() -> None:
    with tf.Graph().as_default() as graph:
        global_step = tf.train.get_or_create_global_step()
        w = tf.Variable([1.0, 2.0], name="w")
        opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.5), replicas_to_aggregate=2)
        opt.minimize(tf.reduce_sum(w), global_step=global_step)
    accumulator = graph.get_operation_by_name("sync_replicas/conditional_accumulator")
    assert accumulator.get_attr("shared_name") in ("w:0/grad_accum", b"w:0/grad_accum")
    assert accumulator.get_attr("reduction_type") in ("MEAN", b"MEAN")
    queue = graph.get_operation_by_name("sync_token_q")
    assert queue.get_attr("shared_name") in ("sync_token_q", b"sync_token_q")
    assert queue.get_attr("capacity") == -1


# ------------------------------------------------------------------ runs, against TensorFlow
@pytest.mark.parametrize("name", sorted(scenarios.RUNS))
def test_replicas_get_tfs_tokens_steps_and_averaged_updates(name: str) -> None:
    assert scenarios.RUNS[name](tf) == REFERENCE["runs"][name]


def test_two_replicas_average_each_pair_of_gradients_exactly() -> None:
    # Round i: the replicas' gradients are [1 + i, 10] and [3 + i, 20]; each update is their mean,
    # times the learning rate, and increments the global step once.
    rounds = scenarios.run_two_replicas(tf, num_tokens=0)
    w = np.array(scenarios.INITIAL_W)
    for i, (tokens, step, weights, queue_size) in enumerate(rounds):
        w = w - scenarios.LEARNING_RATE * (np.array([1.0 + i, 10.0]) + np.array([3.0 + i, 20.0])) / 2
        assert tokens == [i + 1, i + 1] and step == i + 1 and queue_size == 0
        assert weights == w.tolist()


def test_stale_gradients_are_dropped() -> None:
    # With replicas_to_aggregate tokens at the start, a replica's second step computes its gradient at
    # local step 0 after the first update made the accumulators' step 1: it is dropped, and the
    # global step and weights stay.
    one = REFERENCE["runs"]["one_replica_default_tokens"]
    assert one[0][1:3] == one[1][1:3] == [1, [0.5, -3.0]]
    two = REFERENCE["runs"]["two_replicas_default_tokens"]
    assert two[0][1:3] == two[1][1:3]
    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        w = tf.Variable([1.0, 2.0], name="w")
        x = tf.placeholder(tf.float32, [2])
        opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.5), replicas_to_aggregate=1)
        train_op = opt.minimize(tf.reduce_sum(w * x), global_step=global_step)
        accumulator = opt._accumulator_list[0][0]
        stale = accumulator.apply_grad(tf.constant([5.0, 5.0]), local_step=tf.constant(0, tf.int64))
        hook = opt.make_session_run_hook(True, num_tokens=0)
        hook.begin()
        with tf.Session() as sess:
            sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
            coord = tf.train.Coordinator()
            hook.after_create_session(sess, coord)
            assert sess.run(train_op, {x: [1.0, 1.0]}) == 1
            sess.run(stale)
            assert sess.run(accumulator.num_accumulated()) == 0
            coord.request_stop()
        coord.join(stop_grace_period_secs=5)


# The monitored session joins its threads before closing the Session; the queue runner, still waiting
# for gradients, then gets CancelledError and reports it to the joined Coordinator, which raises it in
# that thread, as TF's does.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_the_hook_starts_the_chief_queue_runner_under_a_monitored_session() -> None:
    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        w = tf.Variable([1.0, 2.0], name="w")
        opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.5), replicas_to_aggregate=1)
        train_op = opt.minimize(tf.reduce_sum(w * [2.0, 4.0]), global_step=global_step)
        final = tf.train.FinalOpsHook([global_step, w])
        hooks = [opt.make_session_run_hook(True, num_tokens=0), tf.train.StopAtStepHook(last_step=3), final]
        tokens = []
        with tf.train.MonitoredTrainingSession(hooks=hooks, stop_grace_period_secs=0.2,
                                               save_checkpoint_secs=None, save_summaries_steps=None,
                                               log_step_count_steps=None) as sess:
            while not sess.should_stop():
                tokens.append(int(sess.run(train_op)))
    for thread in threading.enumerate():
        if thread.name.startswith("QueueRunnerThread-sync_token_q"):
            thread.join(5)
    assert tokens == [1, 2, 3]
    step, weights = final.final_ops_values
    assert step == 3 and weights.tolist() == [-2.0, -4.0]


# ------------------------------------------------------------------ moving averages after the update
def test_variable_averages_average_the_updated_variables() -> None:
    # TF gives 0.75, 0.375 (the averages of the weights after each update, with decay 0.5)
    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        w = tf.Variable([1.0, 2.0], name="w")
        ema = tf.train.ExponentialMovingAverage(0.5)
        opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.5), 1, variable_averages=ema,
                                             variables_to_average=[w])
        train_op = opt.minimize(tf.reduce_sum(w * [1.0, 2.0]), global_step=global_step)
        assert opt.get_chief_queue_runner().enqueue_ops[0].name == "ExponentialMovingAverage"
        hook = opt.make_session_run_hook(True, num_tokens=0)
        hook.begin()
        sess = tf.Session()
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        coord = tf.train.Coordinator()
        hook.after_create_session(sess, coord)
        averages = []
        for _ in range(2):
            sess.run(train_op)
            averages.append(sess.run(ema.average(w)).tolist())
        coord.request_stop()
        sess.close()
        coord.join(stop_grace_period_secs=5)
    assert averages == [[0.75, 1.5], [0.375, 0.75]]


# ------------------------------------------------------------------ the rest of the API
def test_slots_and_variables_are_the_wrapped_optimizers() -> None:
    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        w = tf.Variable([1.0, 2.0], name="w")
        opt = tf.train.SyncReplicasOptimizer(tf.train.MomentumOptimizer(0.5, 0.9), replicas_to_aggregate=2)
        opt.minimize(tf.reduce_sum(w), global_step=global_step)
        assert opt.get_slot(w, "momentum").name == "w/Momentum:0"
        assert opt.get_slot_names() == ["momentum"]
        assert [v.name for v in opt.variables()] == ["w/Momentum:0"]  # the local step is not one
        assert [v.name for v in tf.local_variables()] == ["sync_rep_local_step:0"]
        assert tf.local_variables()[0].dtype.base_dtype == tf.int64


def test_apply_gradients_twice_builds_a_second_set_as_tf_does() -> None:
    with tf.Graph().as_default() as graph:
        global_step = tf.train.get_or_create_global_step()
        w = tf.Variable([1.0, 2.0], name="w")
        opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.5), replicas_to_aggregate=2)
        loss = tf.reduce_sum(w)
        first = opt.apply_gradients(opt.compute_gradients(loss), global_step=global_step)
        second = opt.apply_gradients(opt.compute_gradients(loss), global_step=global_step)
        assert (first.name, second.name) == ("Assign_1:0", "Assign_3:0")
        assert graph.get_operation_by_name("sync_replicas_1/conditional_accumulator").get_attr("shared_name") in (
            "w:0/grad_accum", b"w:0/grad_accum")
        assert [v.name for v in tf.local_variables()] == ["sync_rep_local_step:0", "sync_rep_local_step_1:0"]


def test_construction_logs_the_replica_counts_as_tf(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="caudal"):
        tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.5), replicas_to_aggregate=2,
                                       total_num_replicas=3)
    assert "SyncReplicasV2: replicas_to_aggregate=2; total_num_replicas=3" in caplog.text


# ------------------------------------------------------------------ errors, with TF's messages
def _model() -> tuple[object, object, object, object]:
    global_step = tf.train.get_or_create_global_step()
    w = tf.Variable([1.0, 2.0], name="w")
    loss = tf.reduce_sum(w * tf.placeholder(tf.float32, [2]))
    opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.5), replicas_to_aggregate=3,
                                         total_num_replicas=1)
    return global_step, w, loss, opt


def test_calls_before_apply_gradients_raise() -> None:
    with tf.Graph().as_default():
        _, _, _, opt = _model()
        with pytest.raises(ValueError, match=r"^Should be called after apply_gradients\(\)\.$"):
            opt.get_chief_queue_runner()
        with pytest.raises(ValueError, match=r"^get_init_tokens_op\(\) should be called after apply_gradients\(\)\.$"):
            opt.get_init_tokens_op()
        with pytest.raises(ValueError, match=r"^SyncReplicasOptimizer\.apply_gradient should be called before using "
                                             r"the hook\.$"):
            opt.make_session_run_hook(True).begin()


def test_bad_gradients_and_missing_global_step_raise() -> None:
    with tf.Graph().as_default():
        global_step, w, loss, opt = _model()
        with pytest.raises(ValueError, match="^Must supply at least one variable$"):
            opt.apply_gradients([], global_step=global_step)
        with pytest.raises(ValueError, match="^Global step is required to check staleness$"):
            opt.apply_gradients(opt.compute_gradients(loss))
        with pytest.raises(ValueError, match="^Global step is required to check staleness$"):
            opt.minimize(loss)
        with pytest.raises(ValueError, match="^Unknown grad type!$"):
            opt.apply_gradients([(np.ones(2, np.float32), w)], global_step=global_step)


def test_too_few_init_tokens_raise() -> None:
    with tf.Graph().as_default():
        global_step, _, loss, opt = _model()
        opt.minimize(loss, global_step=global_step)
        with pytest.raises(ValueError, match=r"^Too few tokens to finish the first step: 1 \(given\) vs 2 \(needed\)$"):
            opt.get_init_tokens_op(1)
        assert opt.get_init_tokens_op(2).name == "sync_token_q_EnqueueMany_1"


def test_the_hook_refuses_a_model_whose_variables_are_not_initialized() -> None:
    with tf.Graph().as_default():
        global_step, _, loss, opt = _model()
        opt.minimize(loss, global_step=global_step)
        chief, worker = opt.make_session_run_hook(True), opt.make_session_run_hook(False)
        chief.begin()
        worker.begin()
        with tf.Session() as sess:
            coord = tf.train.Coordinator()
            with pytest.raises(RuntimeError, match=r"^Init operations did not make model ready for "
                                                   r"SyncReplicasOptimizer local_init\. Init op: sync_replicas/"
                                                   r"group_deps, error: Variables not initialized: global_step, w$"):
                chief.after_create_session(sess, coord)
            sess.run(global_step.initializer)
            with pytest.raises(RuntimeError, match=r"Init op: Assign:0, error: Variables not initialized: w$"):
                worker.after_create_session(sess, coord)
