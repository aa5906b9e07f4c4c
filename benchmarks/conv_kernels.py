"""The oneDNN convolution kernels of the fast_cpu backend against the NumPy variants: ms per op.

The three 3x3 SAME, stride 1 convolutions of a LeNet-style network at batch 128
(28x28x1 -> 32, 14x14x32 -> 64, 7x7x64 -> 128), each op (Conv2D, its input and
filter gradients) called directly with NumPy arrays. A figure is the median (and the
best) of `--runs` timed calls after `--warmup` untimed ones (the first creates
oneDNN's primitives); on a machine shared with other work the best is the
steadier figure. Each oneDNN result is checked against NumPy's to 1e-4 relative.

    python benchmarks/conv_kernels.py [--runs 20] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from caudal.backends.fast_cpu import onednn  # noqa: E402
from caudal.framework.registry import get_op_def  # noqa: E402

BATCH = 128
LAYERS = [((BATCH, 28, 28, 1), (3, 3, 1, 32)), ((BATCH, 14, 14, 32), (3, 3, 32, 64)),
          ((BATCH, 7, 7, 64), (3, 3, 64, 128))]
ATTRS = dict(strides=[1, 1, 1, 1], padding="SAME", explicit_paddings=[], data_format="NHWC", dilations=[1, 1, 1, 1])


def _times_ms(call, runs: int, warmup: int) -> tuple[float, float]:
    """(median, best) milliseconds of `runs` calls."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, min(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="oneDNN's OpenMP threads (0: OpenMP's default)")
    args = parser.parse_args()
    onednn.prepare()
    onednn.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"{'layer':<14} {'op':<21} {'numpy ms (best)':>16} {'onednn ms (best)':>17} {'speedup':>8}")
    for x_shape, w_shape in LAYERS:
        x = rng.standard_normal(x_shape).astype(np.float32)
        w = rng.standard_normal(w_shape).astype(np.float32)
        dy = rng.standard_normal(x_shape[:3] + w_shape[3:]).astype(np.float32)
        sizes_x, sizes_w = np.array(x_shape, np.int32), np.array(w_shape, np.int32)
        cases = [("Conv2D", (x, w)), ("Conv2DBackpropInput", (sizes_x, w, dy)),
                 ("Conv2DBackpropFilter", (x, sizes_w, dy))]
        label = f"{x_shape[1]}x{x_shape[2]}x{x_shape[3]}->{w_shape[3]}"
        for op_type, inputs in cases:
            numpy_kernel = get_op_def(op_type).variants["numpy"]
            onednn_kernel = onednn.VARIANTS[op_type]
            want = numpy_kernel(np, *inputs, **ATTRS)
            got = onednn_kernel(np, *inputs, **ATTRS)
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.max(np.abs(want))))
            numpy_ms = _times_ms(lambda k=numpy_kernel, a=inputs: k(np, *a, **ATTRS), args.runs, args.warmup)
            onednn_ms = _times_ms(lambda k=onednn_kernel, a=inputs: k(np, *a, **ATTRS), args.runs, args.warmup)
            print(f"{label:<14} {op_type:<21} {numpy_ms[0]:8.2f} ({numpy_ms[1]:5.2f}) {onednn_ms[0]:9.2f} "
                  f"({onednn_ms[1]:5.2f}) {numpy_ms[0] / onednn_ms[0]:7.1f}x")
    info = onednn.cache_info()
    assert info["failures"] == 0, f"some primitives could not be created: {info}"


if __name__ == "__main__":
    main()
