"""`tf.test`: gradient checks, a TestCase with TF's session helpers, and TF's test utilities."""
from typing import Any
from unittest import mock

from caudal.test.gradient_checker import compute_gradient, compute_gradient_error
from caudal.test.testcase import TestCase, get_temp_dir, main

__all__ = ["TestCase", "assert_equal_graph_def", "compute_gradient", "compute_gradient_error", "get_temp_dir",
           "gpu_device_name", "is_built_with_cuda", "is_built_with_gpu_support", "is_built_with_rocm",
           "is_built_with_xla", "is_gpu_available", "main", "mock"]


def _default_backend_gpus() -> list[object]:
    """The GPUs of the backend a Session uses by default ($CAUDAL_BACKEND, else numpy): none on the
    NumPy backends, those jax sees on the jax backend."""
    from caudal import backends

    backend = backends.get_backend(backends.default_backend_name(), f"${backends.ENV_VAR}")
    return [d for d in backend.list_devices() if d.device_type == "GPU"]


def is_gpu_available(cuda_only: bool = False, min_cuda_compute_capability: object = None) -> bool:
    """Whether the default backend runs on a GPU: never on NumPy; with `CAUDAL_BACKEND=jax`, when jax
    sees one."""
    return bool(_default_backend_gpus())


def is_built_with_cuda() -> bool:
    return False


def is_built_with_gpu_support() -> bool:
    return False


def is_built_with_rocm() -> bool:
    return False


def is_built_with_xla() -> bool:
    return False


def gpu_device_name() -> str:
    """`/device:GPU:0` when the default backend runs on a GPU (see is_gpu_available), else ""."""
    gpus = _default_backend_gpus()
    return "/" + gpus[0].name.rsplit("/", 1)[-1] if gpus else ""


def assert_equal_graph_def(expected: Any, actual: Any, checkpoint_v2: bool = False,
                           hash_table_shared_name: bool = False) -> None:
    """Both GraphDefs hold the same nodes (by name, in any order) with the same op, inputs, device and
    attrs; an AssertionError names the first difference. Non-GraphDefs are a TypeError, as in TF."""
    from caudal.proto import graph_pb2

    for label, graph_def in (("expected", expected), ("actual", actual)):
        if not isinstance(graph_def, graph_pb2.GraphDef):
            raise TypeError(f"Expected tf.GraphDef for {label}, got {type(graph_def).__name__}")
    expected_nodes = {node.name: node for node in expected.node}
    actual_nodes = {node.name: node for node in actual.node}
    only_expected = sorted(set(expected_nodes) - set(actual_nodes))
    only_actual = sorted(set(actual_nodes) - set(expected_nodes))
    if only_expected or only_actual:
        raise AssertionError(f"Found nodes only in expected: {only_expected}; only in actual: {only_actual}")
    for name, node in expected_nodes.items():
        other = actual_nodes[name]
        if node != other:
            raise AssertionError(f"Node {name!r} differs:\nexpected:\n{node}\nactual:\n{other}")
