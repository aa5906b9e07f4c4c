"""Sessions on `grpc://` targets: plans split across a parameter server in its own process and a worker
server in this one, over 127.0.0.1 only. Every process has a hard timeout and is killed by its PID."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import caudal as tf
from caudal.runtime.distributed import rpc
from tests.distributed_cluster import Process, free_port, kill_all, loopback_cluster, server_process


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, Any]]:
    """A ps task in its own process and worker 0 in this one."""
    spec = loopback_cluster(ps=1, worker=1)
    ps = server_process(spec, "ps", 0)
    worker = tf.train.Server(spec, job_name="worker", task_index=0)
    try:
        yield {"spec": spec, "ps": ps, "worker": worker}
    finally:
        worker.stop()
        ps.kill()


@pytest.fixture(params=["in-process calls", "grpc only"])
def transport(request: Any, monkeypatch: Any) -> str:
    """The worker's own partitions run in this process directly, or through gRPC like the others."""
    monkeypatch.setattr(rpc, "use_local_calls", request.param == "in-process calls")
    return request.param


def _model() -> dict[str, Any]:
    """A graph using every kind of edge between the two tasks."""
    with tf.device("/job:ps/task:0"):
        v = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="v")
        counter = tf.Variable(0, name="counter")
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    k = tf.placeholder(tf.int32, [], name="k")
    words = tf.placeholder(tf.string, [2], name="words")
    flag = tf.placeholder(tf.bool, [], name="flag")
    product = tf.matmul(x, v, transpose_b=True)                  # v: ps -> worker
    with tf.device("/job:ps/task:0"):
        on_ps = tf.reduce_sum(x * 2.0) + tf.cast(k, tf.float32)  # feeds consumed on the ps
        joined = tf.strings.join([words, words], separator="-")   # strings on the ps
        bump = counter.assign_add(k)
    with tf.control_dependencies([bump]):                        # a control edge ps -> worker
        after = tf.identity(product[0, 0] + 1.0)
    chosen = tf.cond(flag, lambda: on_ps * 10.0, lambda: tf.reduce_max(product))
    return {"v": v, "counter": counter, "x": x, "k": k, "words": words, "flag": flag, "product": product,
            "on_ps": on_ps, "joined": joined, "after": after, "chosen": chosen,
            "init": tf.global_variables_initializer()}


def _run_all(sess: tf.Session, m: dict[str, Any]) -> list[Any]:
    feeds = {m["x"]: np.array([[1, 2, 3], [4, 5, 6]], np.float32), m["k"]: 3, m["words"]: [b"a", b"bc"],
             m["flag"]: True}
    sess.run(m["init"])
    results = [sess.run({"p": m["product"], "s": [m["on_ps"], m["joined"]], "x": m["x"]}, feeds)]
    results.append(sess.run([m["after"], m["counter"]], feeds))
    results.append(sess.run(m["chosen"], feeds))
    results.append(sess.run(m["chosen"], {**feeds, m["flag"]: False}))
    results.append(sess.run(m["counter"]))
    results.append(sess.run(m["v"]))
    return results


def _assert_same(got: Any, expected: Any) -> None:
    if isinstance(expected, dict):
        assert set(got) == set(expected)
        for key in expected:
            _assert_same(got[key], expected[key])
    elif isinstance(expected, (list, tuple)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            _assert_same(g, e)
    else:
        assert np.asarray(got).dtype == np.asarray(expected).dtype
        np.testing.assert_array_equal(got, expected)


def test_feeds_and_fetches_through_grpc_equal_a_local_session(cluster: dict[str, Any], transport: str) -> None:
    with tf.Graph().as_default():
        m = _model()
        with tf.Session() as local:
            expected = _run_all(local, m)
        with tf.Session(cluster["worker"].target) as remote:
            got = _run_all(remote, m)
            runner = remote.make_callable(m["product"], [m["x"]])
            _assert_same(runner(np.ones([1, 3], np.float32)), np.array([[3, 12]], np.float32))
    _assert_same(got, expected)


def test_an_8_mib_tensor_crosses_tasks(cluster: dict[str, Any], transport: str) -> None:
    big = np.random.default_rng(0).standard_normal(2 * 1024 * 1024).astype(np.float32)  # 8 MiB
    with tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            stored = tf.Variable(tf.zeros([big.size]), name="stored")
            x = tf.placeholder(tf.float32, [big.size])
            doubled = x * 2.0                                    # client -> ps -> client
            load = stored.assign(x)
        total = tf.reduce_sum(stored)                            # ps -> worker
        echoed = tf.identity(stored) + 0.0
        with tf.Session(cluster["worker"].target) as sess:
            np.testing.assert_array_equal(sess.run(doubled, {x: big}), big * 2.0)
            sess.run(load, {x: big})
            got_total, got_echo = sess.run([total, echoed])
    np.testing.assert_allclose(got_total, big.sum(dtype=np.float64), rtol=1e-4)
    np.testing.assert_array_equal(got_echo, big)


def test_two_sessions_on_one_server_share_variables_and_reset_clears_them() -> None:
    server = tf.train.Server.create_local_server()
    try:
        with tf.Graph().as_default():
            v = tf.Variable(1.0, name="v")
            increment = v.assign_add(1.0)
            first, second = tf.Session(server.target), tf.Session(server.target)
            first.run(v.initializer)
            first.run(increment)
            assert second.run(v) == 2.0
            second.run(increment)
            assert first.run(v) == 3.0
            tf.Session.reset(server.target)
            for old in (first, second):
                with pytest.raises(tf.errors.AbortedError, match=r"^Session [0-9a-f]+ is not found\.$"):
                    old.run(v)
            with tf.Session(server.target) as third:
                with pytest.raises(tf.errors.FailedPreconditionError, match="Attempting to use uninitialized value v"):
                    third.run(v)
                third.run(v.initializer)
                assert third.run(v) == 1.0
            with tf.container("other"):
                w = tf.Variable(5.0, name="w")
            with tf.Session(server.target) as fourth:
                fourth.run(w.initializer)
                tf.Session.reset(server.target, ["other"])
            with tf.Session(server.target) as fifth:
                assert fifth.run(v) == 1.0  # only the "other" container was cleared
                assert list(fifth.run(tf.report_uninitialized_variables())) == [b"w"]
    finally:
        server.stop()


def test_concurrent_sessions_update_the_ps_variables_without_losing_updates(cluster: dict[str, Any]) -> None:
    with tf.Graph().as_default() as graph:
        with tf.device("/job:ps/task:0"):
            total = tf.Variable(0.0, name="total")
        one = tf.constant(1.0) * 1.0  # computed on the worker, added on the ps
        add = total.assign_add(one)
        with tf.Session(cluster["worker"].target) as sess:
            sess.run(total.initializer)

        def train() -> None:
            with tf.Session(cluster["worker"].target, graph=graph) as own:
                for _ in range(40):
                    own.run(add)

        threads = [threading.Thread(target=train) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        with tf.Session(cluster["worker"].target) as sess:
            assert sess.run(total) == 120.0


def test_an_error_on_one_task_fails_the_run_and_the_next_run_works(cluster: dict[str, Any]) -> None:
    with tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            v = tf.Variable(2.0, name="late")
        doubled = v * 2.0
        with tf.Session(cluster["worker"].target) as sess:
            start = time.monotonic()
            with pytest.raises(tf.errors.FailedPreconditionError, match="Attempting to use uninitialized value late"):
                sess.run(doubled)
            assert time.monotonic() - start < 10
            sess.run(v.initializer)
            assert sess.run(doubled) == 4.0
            with pytest.raises(tf.errors.InvalidArgumentError, match="You must feed a value for placeholder"):
                sess.run(doubled + tf.placeholder(tf.float32, name="missing"))


def test_devices_the_cluster_lacks_are_tf_errors(cluster: dict[str, Any]) -> None:
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [])
        with tf.device("/job:foo/task:0"):
            a = x * x
        with tf.device("/job:ps/task:3"):
            b = tf.constant(1.0) * 3.0
        with tf.Session(cluster["worker"].target) as sess:
            ps, worker = cluster["spec"]["ps"], cluster["spec"]["worker"]
            assert ps and worker
            devices = "/job:ps/replica:0/task:0/device:CPU:0, /job:worker/replica:0/task:0/device:CPU:0"
            with pytest.raises(tf.errors.InvalidArgumentError) as raised:
                sess.run(a, {x: 1.0})
            assert str(raised.value) == (f"Cannot assign a device for operation mul: {{{{node mul}}}} was explicitly "
                                         f"assigned to /job:foo/task:0 but available devices are [ {devices} ]. "
                                         "Make sure the device specification refers to a valid device.")
            with pytest.raises(tf.errors.InvalidArgumentError, match="explicitly assigned to /job:ps/task:3"):
                sess.run(b)


def test_a_while_loop_runs_on_one_task_reading_ps_variables(cluster: dict[str, Any]) -> None:
    with tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            step = tf.Variable(3, name="step")
        _, total = tf.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + step), [0, 0])
        with tf.device("/job:ps/task:0"):
            inside = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [0])
        with tf.Session(cluster["worker"].target) as sess:
            sess.run(step.initializer)
            assert sess.run(total) == 12
            assert sess.run(inside) == 10
        with tf.device("/job:worker/task:0"):
            def body(i: Any) -> Any:
                with tf.device("/job:ps/task:0"):
                    return i + 1
            split = tf.while_loop(lambda i: i < 3, body, [0])
        with tf.Session(cluster["worker"].target) as sess:
            with pytest.raises(tf.errors.UnimplementedError, match="inside a tf.while_loop"):
                sess.run(split)


def test_list_devices_names_every_task(cluster: dict[str, Any]) -> None:
    with tf.Graph().as_default(), tf.Session(cluster["worker"].target) as sess:
        names = [d.name for d in sess.list_devices()]
    assert names == ["/job:ps/replica:0/task:0/device:CPU:0", "/job:worker/replica:0/task:0/device:CPU:0"]


def test_list_devices_keeps_to_the_device_filters(cluster: dict[str, Any]) -> None:
    config = tf.ConfigProto(device_filters=["/job:ps"])
    with tf.Graph().as_default(), tf.Session(cluster["worker"].target, config=config) as sess:
        assert [d.name for d in sess.list_devices()] == ["/job:ps/replica:0/task:0/device:CPU:0"]
    config = tf.ConfigProto(device_filters=["/job:worker/task:0/device:CPU:0", "/job:ps/task:3"])
    with tf.Graph().as_default(), tf.Session(cluster["worker"].target, config=config) as sess:
        assert [d.name for d in sess.list_devices()] == ["/job:worker/replica:0/task:0/device:CPU:0"]


def test_a_server_whose_object_the_program_dropped_goes_on_serving() -> None:
    code = ("import gc, caudal as tf\n"
            "target = tf.train.Server.create_local_server().target\n"
            "gc.collect()\n"
            "print('ready', target, flush=True)\n"
            "import time; time.sleep(120)\n")
    process = Process(["-c", code], timeout=60)
    try:
        target = process.wait_for_line("ready").split()[1]
        with tf.Graph().as_default(), tf.Session(target) as sess:
            assert sess.run(tf.constant(2.0) * 3.0) == 6.0
    finally:
        process.kill()


def test_a_target_where_nothing_listens_is_unavailable_within_the_deadline() -> None:
    config = tf.ConfigProto(operation_timeout_in_ms=500)
    start = time.monotonic()
    with pytest.raises(tf.errors.UnavailableError, match=r"^The task at 127\.0\.0\.1:\d+ is unavailable"):
        tf.Session(f"grpc://127.0.0.1:{free_port()}", config=config)
    assert time.monotonic() - start < 5


def test_targets_that_are_not_grpc_are_tf_not_found_errors() -> None:
    with pytest.raises(tf.errors.NotFoundError, match="No session factory registered for the given session options"):
        tf.Session("foo://bar")


def test_a_killed_ps_is_unavailable_and_a_restarted_one_does_not_know_the_session() -> None:
    spec = loopback_cluster(ps=1, worker=1)
    ps = server_process(spec, "ps", 0)
    worker = tf.train.Server(spec, job_name="worker", task_index=0)
    try:
        with tf.Graph().as_default():
            with tf.device("/job:ps/task:0"):
                v = tf.Variable(7.0, name="v")
            read = v * 1.0
            sess = tf.Session(worker.target)
            sess.run(v.initializer)
            assert sess.run(read) == 7.0
            ps.kill()
            with pytest.raises(tf.errors.UnavailableError):
                sess.run(read)
            ps = server_process(spec, "ps", 0)
            deadline = time.monotonic() + 10
            while True:  # until the channel has reconnected to the new process
                try:
                    sess.run(read)
                except tf.errors.UnavailableError:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
                    continue
                except tf.errors.AbortedError as e:
                    assert "is not found" in str(e)
                    break
                raise AssertionError("a session of the killed ps ran on the new one")
            with tf.Session(worker.target) as fresh:
                with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value v"):
                    fresh.run(read)
    finally:
        worker.stop()
        ps.kill()


def test_a_cond_branch_on_another_task_sends_dead_values(cluster: dict[str, Any], transport: str) -> None:
    with tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            hits = tf.Variable(0, name="hits")
        flag = tf.placeholder(tf.bool, [])
        x = tf.placeholder(tf.float32, [2])

        def on_ps() -> Any:
            with tf.device("/job:ps/task:0"):
                bump = hits.assign_add(1)
                with tf.control_dependencies([bump]):
                    return tf.reduce_sum(x) * 2.0

        def on_worker() -> Any:
            return tf.reduce_max(x) - 1.0

        chosen = tf.cond(flag, on_ps, on_worker)
        feeds = {x: np.array([1.0, 4.0], np.float32)}
        for sess in (tf.Session(), tf.Session(cluster["worker"].target)):
            with sess:
                sess.run(hits.initializer)
                assert sess.run(chosen, {**feeds, flag: True}) == 10.0
                assert sess.run(chosen, {**feeds, flag: False}) == 3.0
                assert sess.run(chosen, {**feeds, flag: True}) == 10.0
                assert sess.run(hits) == 2  # the untaken branch's update did not run


def test_datasets_and_py_funcs_run_in_partitions_of_the_clients_process(cluster: dict[str, Any]) -> None:
    with tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            total = tf.Variable(0.0, name="total")
        dataset = tf.data.Dataset.from_tensor_slices(np.arange(20, dtype=np.float32).reshape(10, 2))
        batch = tf.data.make_one_shot_iterator(dataset.map(lambda v: v * 2.0).batch(4)).get_next()
        add = total.assign_add(tf.reduce_sum(batch))
        plus_one = tf.py_func(lambda a: a + 1, [batch], tf.float32)
        with tf.Session(cluster["worker"].target) as sess:
            sess.run(total.initializer)
            assert (sess.run(add), sess.run(add)) == (56.0, 240.0)
            np.testing.assert_array_equal(sess.run(plus_one), [[33, 35], [37, 39]])  # the same iterator
            with pytest.raises(tf.errors.OutOfRangeError):
                sess.run(add)
        rpc.use_local_calls = False
        try:
            with tf.Session(cluster["worker"].target) as sess:
                with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot register the graph"):
                    sess.run(plus_one)
        finally:
            rpc.use_local_calls = True


def test_the_rendezvous_keeps_nothing_of_a_cancelled_step() -> None:
    from caudal.runtime.distributed.worker import Rendezvous

    rendezvous = Rendezvous()
    rendezvous.send(1, "a", np.ones(2))
    np.testing.assert_array_equal(rendezvous.recv(1, "a"), np.ones(2))
    rendezvous.send(2, "sent", np.ones(2))
    rendezvous.abort(2, tf.errors.CancelledError(None, None, "step 2 was cancelled"))
    rendezvous.send(2, "late", np.ones(2))
    with pytest.raises(tf.errors.CancelledError, match="^step 2 was cancelled$"):
        rendezvous.recv(2, "waiting")
    waiter = threading.Thread(target=lambda: pytest.raises(tf.errors.CancelledError, rendezvous.recv, 3, "b"))
    waiter.start()
    time.sleep(0.05)
    rendezvous.abort(3, tf.errors.CancelledError(None, None, "step 3 was cancelled"))
    waiter.join(5)
    assert not waiter.is_alive() and rendezvous._slots == {}


def _transfer_groups(sess: tf.Session) -> dict[tuple[str, int], list[list[str]]]:
    """The transfer groups of every partition the session registered: task -> [[tensor names]]."""
    from caudal.ops.sendrecv_ops import TRANSFER_GROUP_ATTR

    found: dict[tuple[str, int], list[list[str]]] = {}
    for plan in sess._remote._plans.values():
        for part in plan.partitions:
            groups: dict[int, list[str]] = {}
            for node in part.graph_def.node:
                if node.op == "_Recv":
                    groups.setdefault(node.attr[TRANSFER_GROUP_ATTR].i or -len(groups) - 1, []).append(
                        node.attr["tensor_name"].s.decode())
            found.setdefault(part.task, []).extend(groups.values())
    return found


def _training_step(rng: Any) -> tuple:
    with tf.device(tf.train.replica_device_setter(ps_tasks=1)):
        x, y = tf.placeholder(tf.float32, [None, 6]), tf.placeholder(tf.int64, [None])
        w1 = tf.Variable(rng.standard_normal([6, 5]).astype(np.float32), name="w1")
        b1 = tf.Variable(tf.zeros([5]), name="b1")
        w2 = tf.Variable(rng.standard_normal([5, 3]).astype(np.float32), name="w2")
        logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    return x, y, [w1, b1, w2], loss, train


def test_a_training_step_pulls_its_variables_and_its_gradients_in_one_request_each(
        cluster: dict[str, Any], transport: str, monkeypatch: Any) -> None:
    from caudal.runtime.distributed import master

    monkeypatch.setattr(master, "RELAY", False)  # TF's partitions, the tasks pulling from each other
    requests: list[int] = []
    single, grouped = rpc.GrpcWorkerClient.recv_tensor_async, rpc.GrpcWorkerClient.recv_tensors_async
    monkeypatch.setattr(rpc.GrpcWorkerClient, "recv_tensor_async",
                        lambda self, step, key: requests.append(1) or single(self, step, key))
    monkeypatch.setattr(rpc.GrpcWorkerClient, "recv_tensors_async",
                        lambda self, step, keys: requests.append(len(keys)) or grouped(self, step, keys))
    rng = np.random.default_rng(1)
    images, labels = rng.standard_normal([8, 6]).astype(np.float32), rng.integers(0, 3, 8)
    results = []
    with tf.Graph().as_default():
        x, y, (w1, b1, w2), loss, train = _training_step(rng)
        for target in ("", cluster["worker"].target):
            with tf.Session(target) as sess:
                sess.run(tf.global_variables_initializer())
                requests.clear()
                losses = [sess.run([train, loss], {x: images, y: labels})[1] for _ in range(3)]
                results.append((losses, sess.run([w1, b1, w2])))
                if target:
                    groups = _transfer_groups(sess)
    _assert_same(results[1], results[0])
    # In a step the worker pulls the variables' reads, the ps the learning rate and the three gradients;
    # the train op (a NoOp run after the three updates) runs on the ps, so no signal comes back.
    worker_groups, ps_groups = (sorted(map(sorted, groups[task])) for task in (("worker", 0), ("ps", 0)))
    assert worker_groups == [["b1/read:0", "w1/read:0", "w2/read:0"]], worker_groups
    assert ["GradientDescent/learning_rate:0", "gradients/MatMul_1_grad/MatMul_1:0",
            "gradients/MatMul_grad/MatMul_1:0", "gradients/add_grad/Sum:0"] in ps_groups, ps_groups
    if transport == "grpc only":
        assert requests == [3] * 3, requests  # one request a step from the worker, for three tensors


def test_a_relayed_training_step_is_two_calls_to_the_ps_and_no_pull(cluster: dict[str, Any],
                                                                      monkeypatch: Any) -> None:
    """The worker's client runs the worker's partition in its own process, so it relays: per step a
    RunGraph on the ps for the variables, then one with the gradients (relay.py)."""
    calls: list[str] = []
    for name in ("recv_tensor_async", "recv_tensors_async", "run_graph_async"):
        original = getattr(rpc.GrpcWorkerClient, name)
        monkeypatch.setattr(rpc.GrpcWorkerClient, name,
                            lambda self, *args, _name=name, _original=original, **kwargs: calls.append(_name) or
                            _original(self, *args, **kwargs))
    rng = np.random.default_rng(1)
    images, labels = rng.standard_normal([8, 6]).astype(np.float32), rng.integers(0, 3, 8)
    results = []
    with tf.Graph().as_default():
        x, y, variables, loss, train = _training_step(rng)
        for target in ("", cluster["worker"].target):
            with tf.Session(target) as sess:
                sess.run(tf.global_variables_initializer())
                sess.run([train, loss], {x: images, y: labels})
                calls.clear()
                losses = [sess.run([train, loss], {x: images, y: labels})[1] for _ in range(3)]
                step_calls = list(calls)
                results.append((losses, sess.run(variables)))
                if target:
                    [plan] = [p for p in sess._remote._plans.values() if p.relay is not None and p.fetch_count == 2]
    _assert_same(results[1], results[0])
    pre, local, post = plan.relay
    assert [s.partition.task for s in (*pre, local, *post)] == [("ps", 0), ("worker", 0), ("ps", 0)]
    assert sorted(name for name, _ in pre[0].relay_fetches) == ["b1/read:0", "w1/read:0", "w2/read:0"]
    assert not any(n.op in ("_Send", "_Recv") for s in (*pre, local, *post) for n in s.partition.graph_def.node)
    assert {n.op for n in post[0].partition.graph_def.node} >= {"ApplyGradientDescent", "VariableV2", "Placeholder"}
    assert step_calls == ["run_graph_async"] * 6, step_calls


def test_sends_that_wait_for_the_receiver_between_them_are_pulled_apart(cluster: dict[str, Any],
                                                                           transport: str) -> None:
    """The ps sends `a`, then needs `b` from the worker, which needs `a`, before it can send `c`: a
    worker waiting for `a` and `c` together would wait for itself."""
    with tf.Graph().as_default():
        with tf.device("/job:ps/task:0"):
            a = tf.Variable([1.0, 2.0], name="a")
        b = a * 3.0                                  # on the worker
        with tf.device("/job:ps/task:0"):
            c = b + a                                # on the ps, after it received b
        total = c * 10.0 + a                         # the worker receives a and c
        with tf.Session(cluster["worker"].target) as sess:
            sess.run(a.initializer)
            finished: list[Any] = []
            runner = threading.Thread(target=lambda: finished.append(sess.run(total)), daemon=True)
            runner.start()
            runner.join(30)
            assert finished, "the run waited forever"
            np.testing.assert_array_equal(finished[0], [41.0, 82.0])
            groups = _transfer_groups(sess)
            assert all(plan.relay is None for plan in sess._remote._plans.values())  # c goes back: no relay
    assert sorted(map(sorted, groups[("worker", 0)])) == [["a/read:0"], ["add:0"]], groups


def test_tensors_between_two_ps_tasks_keep_the_pulls() -> None:
    spec = loopback_cluster(ps=2, worker=1)
    servers = [server_process(spec, "ps", i) for i in range(2)]
    worker = tf.train.Server(spec, job_name="worker", task_index=0)
    try:
        with tf.Graph().as_default():
            with tf.device("/job:ps/task:0"):
                a = tf.Variable([1.0, 2.0], name="a")
            with tf.device("/job:ps/task:1"):
                b = a * 2.0                           # ps 1 reads ps 0's variable
            x = tf.placeholder(tf.float32, [2])
            with tf.Session(worker.target) as sess:
                sess.run(a.initializer)
                np.testing.assert_array_equal(sess.run(b + x, {x: [1.0, 1.0]}), [3.0, 5.0])
                assert [plan.relay for plan in sess._remote._plans.values()][-1] is None
    finally:
        worker.stop()
        kill_all(servers)


def test_call_threads_never_queue_a_call_behind_a_waiting_one() -> None:
    threads = rpc._CallThreads()
    released = threading.Event()
    first = threads.submit(lambda request: (request, released.wait(10))[0], "waits")
    second = threads.submit(lambda request: (request, released.set())[0], "releases")  # needs a second thread
    assert (second.result(10), first.result(10)) == ("releases", "waits")

    def failing(request: Any) -> None:
        raise ValueError(request)

    with pytest.raises(ValueError, match="^bad$"):
        threads.submit(failing, "bad").result(10)
    assert threads.submit(lambda request: request * 2, 21).result(10) == 42  # an idle thread is reused
