"""`tf.test`: gradient checks and a TestCase with TF's session helpers."""
from caudal.test.gradient_checker import compute_gradient, compute_gradient_error
from caudal.test.testcase import TestCase, main

__all__ = ["TestCase", "compute_gradient", "compute_gradient_error", "gpu_device_name", "is_built_with_cuda",
           "is_gpu_available", "main"]


def is_gpu_available(cuda_only: bool = False, min_cuda_compute_capability: object = None) -> bool:
    """The NumPy backend runs on the CPU only."""
    return False


def is_built_with_cuda() -> bool:
    return False


def gpu_device_name() -> str:
    return ""
