"""numba loop of a CNN's first layer: a convolution over few input channels, its bias and ReLU, and a
max pooling, in one pass that never writes the convolution's output (`conv_pool` prepares its
arguments and calls it).

It takes the input zero-padded (`xpad`) for the pooling windows' rows and columns, counted from
the first window's first row, plus the convolution's kh - 1 and kw - 1: the value of the
convolution at window row r and column s (before the bias) is the sum over the filter taps of
`xpad[n, r + i, s + j, ci] * w[i, j, ci, c]`, and no index is out of range. Window positions
outside the convolution's output (the padding of a SAME pooling) are never a window's maximum.

The filter size, the channel counts and the window size are numba literals: each combination
compiles its own machine code, whose loops over the taps and windows are unrolled and whose loop
over the output channels runs in vector registers (with the channel count known at run time
only, LLVM left that loop scalar: 0.50 against 0.29 ms for LeNet's first convolution alone).
Every array it writes is an argument, its scratch rows included (one per thread, chosen by
`get_thread_id` and indexed in full, as a view of them is a local array too): writing arrays
allocated inside the loop made the pass up to three times slower. A task computes its row of
windows' values in its scratch row, then pools them, the columns outside the convolution's output
filled in loops of their own (a test of each column in the computing loop cost 0.2 ms): LeNet's
first layer ran in 0.43-0.49 ms that way, against 0.77 ms keeping the maxima in `y` as each value
was computed (2 cores, hot caches).
"""
from __future__ import annotations

import numpy as np
from numba import get_thread_id, literally, njit, prange

_JIT = {"parallel": True, "cache": True, "fastmath": {"contract"}, "error_model": "numpy"}
_LOWEST = np.float32(-3.4028235e38)  # where TF's oneDNN max pooling starts a window


@njit(**_JIT)
def conv_relu_max_pool(xpad, w, bias, top, left, hc, wc, y, workspace, rows, kh, kw, cin, c, ph, pw):
    """y = max pooling of Relu(conv(x, w) + bias) over ph x pw windows that tile the convolution's
    output (hc x wc, the windows starting `top` rows and `left` columns before it), and the
    workspace: each maximum's index in its window, i * pw + j (oneDNN's format). As in TF's oneDNN
    kernels, the ReLU of a NaN is 0 (oneDNN's post-op), and a window takes only values strictly
    greater than those before it, from the lowest float32.
    rows: (threads, ph, wo * pw, c) scratch."""
    literally(kh)
    literally(kw)
    literally(cin)
    literally(c)
    literally(ph)
    literally(pw)
    n, ho, wo = y.shape[0], y.shape[1], y.shape[2]
    zero = np.float32(0)
    for task in prange(n * ho):
        b, oh = task // ho, task % ho
        thread = get_thread_id()
        for i in range(ph):
            r = oh * ph + i
            # the window columns over the convolution's output: [left, first_out); the others never win
            first_out = min(left + wc, wo * pw) if 0 <= r - top < hc else left
            for s in range(left):
                for ch in range(c):
                    rows[thread, i, s, ch] = _LOWEST
            for s in range(first_out, wo * pw):
                for ch in range(c):
                    rows[thread, i, s, ch] = _LOWEST
            for s in range(left, first_out):
                for ch in range(c):
                    total = zero
                    for a in range(kh):
                        for e in range(kw):
                            for ci in range(cin):
                                total += xpad[b, r + a, s + e, ci] * w[a, e, ci, ch]
                    total += bias[ch]
                    rows[thread, i, s, ch] = total if total > zero else zero
        for ow in range(wo):
            for ch in range(c):
                best = _LOWEST
                arg = np.uint8(0)
                for i in range(ph):
                    for j in range(pw):
                        value = rows[thread, i, ow * pw + j, ch]
                        take = value > best
                        best = value if take else best
                        arg = np.uint8(i * pw + j) if take else arg
                y[b, oh, ow, ch] = best
                workspace[b, oh, ow, ch] = arg


@njit(**_JIT)
def conv_max_pool_grads(xpad, dy, pooled, workspace, parts, windows, sums, kh, kw, cin, c, ph, pw):
    """The filter and bias gradients of `conv_relu_max_pool`'s layer from the pooled gradient `dy`:
    each window's gradient, times 1 where its pooled value is positive and 0 elsewhere (ReluGrad's
    mask), goes to the element `workspace` names, whose filter taps it multiplies; nothing of the
    convolution's size is written.
    parts: (threads, kh * kw * cin + 1, c) float64, zeroed, to which each thread adds its images' filter
    gradient (rows in kh, kw, cin order) and, in the last row, its bias gradient.
    windows: (threads, >= ph * pw, c) and sums: (threads, >= kh * kw * cin + 1, c) float32 scratch.
    Each thread adds up an image in `sums` (the update of each tap is one read and one write of a
    vector of channels, its windows' values held in registers), then into `parts`."""
    literally(kh)
    literally(kw)
    literally(cin)
    literally(c)
    literally(ph)
    literally(pw)
    ho, wo = dy.shape[1], dy.shape[2]
    taps = kh * kw * cin
    zero, one = np.float32(0), np.float32(1)
    for b in prange(dy.shape[0]):
        thread = get_thread_id()
        for t in range(taps + 1):
            for ch in range(c):
                sums[thread, t, ch] = zero
        for oh in range(ho):
            for ow in range(wo):
                for q in range(ph * pw):
                    for ch in range(c):
                        # ReluGrad's product with the mask (a NaN gradient stays NaN, as in TF), then the
                        # window's element the workspace names; tests within the expressions make selects
                        masked = dy[b, oh, ow, ch] * (one if pooled[b, oh, ow, ch] > zero else zero)
                        windows[thread, q, ch] = masked if workspace[b, oh, ow, ch] == q else zero
                for i in range(kh):
                    for j in range(kw):
                        for ci in range(cin):
                            t = (i * kw + j) * cin + ci
                            for ch in range(c):
                                total = sums[thread, t, ch]
                                for q in range(ph * pw):
                                    tap = xpad[b, oh * ph + q // pw + i, ow * pw + q % pw + j, ci]
                                    total += tap * windows[thread, q, ch]
                                sums[thread, t, ch] = total
                for ch in range(c):
                    total = sums[thread, taps, ch]
                    for q in range(ph * pw):
                        total += windows[thread, q, ch]
                    sums[thread, taps, ch] = total
        for t in range(taps + 1):
            for ch in range(c):
                parts[thread, t, ch] += sums[thread, t, ch]
