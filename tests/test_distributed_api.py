"""tf.train.ClusterSpec, tf.train.Server's bad input, replica_device_setter's placement, DeviceSpec and
TFConfigClusterResolver, against what TensorFlow 2.21 gives (tests/fixtures/distributed/tf_reference.json,
made by tests/fixtures/make_distributed_fixtures.py)."""
from __future__ import annotations

import json
import pathlib
import socket
import subprocess
import sys
from typing import Any

import pytest

import caudal as tf
from caudal.distribute import cluster_resolver
from caudal.framework.device_spec import DeviceSpec, canonical_device
from caudal.runtime.distributed.partition import place
from tests.fixtures import distributed_scenarios as scenarios

REFERENCE = json.loads((pathlib.Path(__file__).parent / "fixtures" / "distributed" / "tf_reference.json").read_text())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _built(name: str) -> tf.Graph:
    with tf.Graph().as_default() as graph:
        scenarios.PLACEMENT_SCENARIOS[name](tf)
    return graph


# ------------------------------------------------------------------ placement
@pytest.mark.parametrize("name", sorted(scenarios.PLACEMENT_SCENARIOS))
def test_replica_device_setter_gives_tf_device_strings(name: str) -> None:
    theirs = REFERENCE["placements"][name]
    mine = scenarios.devices(_built(name))
    common = [op for op in theirs if op in mine]
    variables = [op for op in common if theirs[op][0] == "VariableV2"]
    assert variables and len(common) > 0.6 * len(theirs)
    assert {op: canonical_device(mine[op][1]) for op in common} == {op: theirs[op][1] for op in common}
    # Initializers of get_variable have no device and are colocated with their variable, as in TF.
    assert {op: mine[op][2] for op in common if "Initializer" in op} == \
           {op: theirs[op][2] for op in common if "Initializer" in op}


def _tf_task(ops: dict[str, list[Any]], name: str, default: tuple[str, int]) -> tuple[str, int]:
    """Where TensorFlow's placer runs an op: its `_class` target's device, else its own, else the default."""
    _, device, located = ops[name]
    if not device and located:
        device = ops[located[0][len("loc:@"):]][1]
    spec = DeviceSpec.from_string(device)
    if spec.job is None:
        return default
    return (spec.job, spec.task if spec.task is not None else (default[1] if spec.job == default[0] else 0))


@pytest.mark.parametrize("name, cluster, default", [
    ("docstring_example", scenarios.CLUSTER, ("worker", 0)),
    ("howto_trainer", scenarios.CLUSTER, ("worker", 1)),
    ("gradient_descent_mlp", {"ps": ["a:1", "b:1", "c:1"], "worker": ["d:1"]}, ("worker", 0)),
])
def test_the_master_places_every_op_where_tf_runs_it(name: str, cluster: dict, default: tuple[str, int]) -> None:
    theirs = REFERENCE["placements"][name]
    graph = _built(name)
    ops = [op for op in graph.get_operations() if op.name in theirs]
    tasks = place(ops, tf.train.ClusterSpec(cluster), default)
    assert {op.name: tasks[op] for op in ops} == {op.name: _tf_task(theirs, op.name, default) for op in ops}


def test_round_robin_skips_colocated_and_other_job_variables() -> None:
    graph = _built("nested_devices")
    devices = {op.name: op.device for op in graph.get_operations() if op.type == "VariableV2"}
    assert devices == {"a": "/job:ps/task:0", "b": "/job:ps/task:1/device:CPU:0", "c": "/job:worker",
                       "d": "/job:ps/task:2", "f": "/job:foo/task:0", "h": "/job:bar/task:1"}


def test_greedy_load_balancing_puts_variables_on_the_least_loaded_task() -> None:
    from caudal.train.device_setter import GreedyLoadBalancingStrategy, byte_size_load_fn

    strategy = GreedyLoadBalancingStrategy(2, byte_size_load_fn)
    with tf.Graph().as_default() as graph:
        with tf.device(tf.train.replica_device_setter(ps_tasks=2, ps_strategy=strategy)):
            tf.Variable(tf.zeros([100]), name="big")
            tf.Variable(tf.zeros([10]), name="small")
            tf.Variable(tf.zeros([10]), name="small2")
            tf.Variable(tf.zeros([200]), name="bigger")
    devices = {op.name: op.device for op in graph.get_operations() if op.type == "VariableV2"}
    assert devices == {"big": "/job:ps/task:0", "small": "/job:ps/task:1", "small2": "/job:ps/task:1",
                       "bigger": "/job:ps/task:1"}


def test_colocate_with_takes_the_device_and_suspends_device_functions() -> None:
    with tf.Graph().as_default() as graph:
        with tf.device("/job:ps/task:1"):
            v = tf.Variable(1.0, name="v")
        with tf.device("/job:worker/task:0"):
            with graph.colocate_with(v.op):
                a = tf.identity(v, name="a")
                with tf.device("/cpu:0"):
                    b = tf.identity(v, name="b")
            c = tf.identity(v, name="c")
        with pytest.raises(ValueError, match="^Trying to reset colocation"):
            with graph.colocate_with(None):
                pass
        with pytest.raises(TypeError, match="must be an Operation, a Tensor or a Variable"):
            with graph.colocate_with(3):
                pass
    assert (a.op.device, c.op.device) == ("/job:ps/task:1", "/job:worker/task:0")
    assert canonical_device(b.op.device) == "/job:ps/task:1/device:CPU:0"


def test_device_spec_parses_merges_and_prints_as_tf() -> None:
    spec = DeviceSpec.from_string("/job:ps/replica:0/task:2/device:GPU:1")
    assert (spec.job, spec.replica, spec.task, spec.device_type, spec.device_index) == ("ps", 0, 2, "GPU", 1)
    assert DeviceSpec.from_string("/cpu:0").to_string() == "/device:CPU:0"
    assert DeviceSpec.from_string("/job:w/gpu:*").to_string() == "/job:w/device:GPU:*"
    merged = DeviceSpec.from_string("/job:ps/task:1").make_merged_spec(DeviceSpec.from_string("/job:w/cpu:0"))
    assert merged.to_string() == "/job:w/task:1/device:CPU:0"
    with pytest.raises(ValueError, match="^Unknown attribute 'foo' is encountered while parsing the device spec"):
        DeviceSpec.from_string("/foo:1")
    with pytest.raises(ValueError, match="^Multiple device types are not allowed"):
        DeviceSpec.from_string("/cpu:0/gpu:0")


# ------------------------------------------------------------------ ClusterSpec
def test_cluster_spec_answers_as_tf() -> None:
    mine = json.loads(json.dumps(scenarios.cluster_spec_queries(tf)))
    assert mine == REFERENCE["cluster_spec"]


def test_cluster_spec_from_a_cluster_def_and_a_spec() -> None:
    spec = tf.train.ClusterSpec(scenarios.CLUSTER)
    cluster_def = spec.as_cluster_def()
    assert [job.name for job in cluster_def.job] == ["ps", "worker"]
    assert dict(cluster_def.job[1].tasks) == {0: "worker0:2222", 1: "worker1:2222", 2: "worker2:2222"}
    assert tf.train.ClusterSpec(cluster_def).as_dict() == spec.as_dict() == tf.train.ClusterSpec(spec).as_dict()
    assert isinstance(cluster_def, tf.train.ClusterDef)
    assert spec != tf.train.ClusterSpec({"ps": ["x:1"]})


# ------------------------------------------------------------------ Server
def _attempt(fn: Any) -> list[Any]:
    try:
        return ["ok", fn()]
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return [type(e).__name__, str(e)]


def test_server_bad_input_raises_tf_errors() -> None:
    expected = REFERENCE["server_errors"]
    cluster = {"ps": [f"127.0.0.1:{_free_port()}"], "worker": [f"127.0.0.1:{_free_port()}"]}
    assert _attempt(lambda: tf.train.Server(cluster, job_name="foo", task_index=0)) == expected["unknown_job"]
    assert _attempt(lambda: tf.train.Server(cluster, job_name="ps", task_index=3)) == expected["unknown_task"]
    assert _attempt(lambda: tf.train.Server(cluster)) == expected["no_job_name"]
    assert _attempt(lambda: tf.train.Server(3)) == expected["bad_type"]
    assert _attempt(lambda: tf.train.Server({"w": ["127.0.0.1:abc"]}, job_name="w", task_index=0)) == \
        expected["bad_port"]
    with pytest.raises(ValueError, match="^Must specify an explicit `task_index`.$"):
        tf.train.Server({"w": ["a:1", "b:1"]}, job_name="w")
    with pytest.raises(tf.errors.NotFoundError, match="No server factory registered for the given ServerDef"):
        tf.train.Server(cluster, job_name="ps", task_index=0, protocol="foo")


def test_server_on_a_port_in_use_is_tf_unknown_error() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        assert _attempt(lambda: tf.train.Server({"w": [f"127.0.0.1:{port}"]}, job_name="w", task_index=0)) == \
            REFERENCE["server_errors"]["port_in_use"]
    server = tf.train.Server({"w": [f"127.0.0.1:{_free_port()}"]}, job_name="w", task_index=0)
    try:
        address = server.target[len("grpc://"):]
        assert _attempt(lambda: tf.train.Server({"w": [address]}, job_name="w", task_index=0)) == \
            REFERENCE["server_errors"]["port_in_use"]
    finally:
        server.stop()


def test_server_target_server_def_and_local_server() -> None:
    port = _free_port()
    server = tf.train.Server({"ps": [f"127.0.0.1:{port}"], "worker": ["127.0.0.1:1"]}, job_name="ps",
                             start=False)
    try:
        assert server.target == f"grpc://127.0.0.1:{port}"
        assert (server.server_def.job_name, server.server_def.task_index, server.server_def.protocol) == \
            ("ps", 0, "grpc")
        assert isinstance(server.server_def, tf.train.ServerDef)
        server.start()
        server.start()
    finally:
        server.stop()
    local = tf.train.Server.create_local_server()
    try:
        assert local.server_def.job_name == REFERENCE["server_errors"]["local_server_job"]
        assert local.target.rpartition(":")[0] == REFERENCE["server_errors"]["local_server_target_host"]
        assert int(local.target.rpartition(":")[2]) > 0
    finally:
        local.stop()


def test_import_caudal_imports_no_grpc_until_a_server_starts() -> None:
    code = ("import sys, caudal as tf\n"
            "assert 'grpc' not in sys.modules\n"
            "tf.train.ClusterSpec({'ps': ['a:1']}); tf.train.replica_device_setter(ps_tasks=1)\n"
            "import caudal.distribute\n"
            "tf.distribute.cluster_resolver.TFConfigClusterResolver().cluster_spec()\n"
            "assert 'grpc' not in sys.modules\n"
            "tf.train.Server.create_local_server().stop()\n"
            "assert 'grpc' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ------------------------------------------------------------------ TF_CONFIG
_CONFIGS = {
    "worker_1": {"cluster": {"chief": ["c:1"], "worker": ["w0:1", "w1:1"], "ps": ["p:1"]},
                 "task": {"type": "worker", "index": 1}, "environment": "cloud"},
    "rpc_layer": {"cluster": {"worker": ["w0:1"]}, "task": {"type": "worker", "index": 0}, "rpc_layer": "grpc"},
    "no_cluster": {"task": {"type": "worker", "index": 0}},
    "empty": {},
}


@pytest.mark.parametrize("name", sorted(_CONFIGS))
def test_tf_config_cluster_resolver_reads_as_tf(name: str, monkeypatch: Any) -> None:
    monkeypatch.setenv("TF_CONFIG", json.dumps(_CONFIGS[name]))
    resolver = cluster_resolver.TFConfigClusterResolver()
    got = {"cluster_spec": resolver.cluster_spec().as_dict(), "task_type": resolver.task_type,
           "task_id": resolver.task_id, "rpc_layer": resolver.rpc_layer, "environment": resolver.environment,
           "master": _attempt(resolver.master), "master_grpc": _attempt(lambda: resolver.master(rpc_layer="grpc"))}
    assert got == REFERENCE["resolver"][name]


def test_tf_config_resolver_bad_and_missing_config(monkeypatch: Any) -> None:
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(json.JSONDecodeError) as raised:
        cluster_resolver.TFConfigClusterResolver().cluster_spec()
    assert str(raised.value) == REFERENCE["resolver"]["not_json"][1]
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["w0:1", "w1:1"]},
                                                 "task": {"type": "worker", "index": 4}}))
    with pytest.raises(ValueError, match="^No task with index 4 in job 'worker'$"):
        cluster_resolver.TFConfigClusterResolver().master()
    monkeypatch.delenv("TF_CONFIG")
    unset = cluster_resolver.TFConfigClusterResolver()
    assert {"cluster_spec": unset.cluster_spec().as_dict(), "master": unset.master()} == \
        REFERENCE["resolver"]["unset"]
    explicit = cluster_resolver.TFConfigClusterResolver(task_type="ps", task_id=0, rpc_layer="grpc")
    assert {"task_type": explicit.task_type, "task_id": explicit.task_id, "rpc_layer": explicit.rpc_layer} == \
        REFERENCE["resolver"]["explicit"]
    assert tf.distribute.cluster_resolver.TFConfigClusterResolver is cluster_resolver.TFConfigClusterResolver


def test_simple_cluster_resolver() -> None:
    spec = tf.train.ClusterSpec({"worker": ["a:1", "b:2"]})
    resolver = cluster_resolver.SimpleClusterResolver(spec, master="a:1", rpc_layer="grpc")
    assert resolver.cluster_spec() is spec
    assert (resolver.master(), resolver.master("worker", 1)) == ("grpc://a:1", "grpc://b:2")
    with pytest.raises(TypeError, match="^cluster_spec must be a `tf.train.ClusterSpec`.$"):
        cluster_resolver.SimpleClusterResolver({"worker": ["a:1"]})
