"""numba loops of the fast CPU backend's memory-bound ops (float32, C-contiguous arrays).

Imported by `caudal.backends.fast_cpu.loops` only after `prepare()` has chosen
numba's cache directory and threading layer: the cache location of a kernel is
fixed when it is decorated. The wrappers in `loops` check dtypes, layouts and
sizes and compute the scalar coefficients exactly as the NumPy variants do;
these loops do the per-element work in one parallel pass each.

Pooling windows are given by their geometry (`caudal.ops._conv_kernels.spatial_geometry`):
kernel (kh, kw), strides (sh, sw), the padding before each dimension (top,
left) and the output size; only the real (unpadded) elements of a window are
visited. Gradient kernels that scatter into their input-shaped result run one
task per batch element and block of `rows` output rows; the wrapper makes the
blocks single rows only when windows of successive rows never overlap, so no
two tasks write the same element.
"""
from __future__ import annotations

from types import FunctionType

import numpy as np
from llvmlite import ir
from numba import get_thread_id, njit, prange, types
from numba.extending import intrinsic

_JIT = {"parallel": True, "cache": True, "fastmath": False}
_NEG_INF = np.float32(-np.inf)


def _window(start: int, k: int, size: int) -> tuple[int, int]:
    """The first and past-the-last window offsets whose element lies inside [0, size)."""
    return max(0, -start), min(k, size - start)


_window = njit(inline="always")(_window)


def _owned_rows(block: int, blocks: int, rows: int, sh: int, top: int, h: int) -> tuple[int, int]:
    """The input rows a task of `rows` output rows zeroes: from its first window to the next task's."""
    lo = 0 if block == 0 else min(max(block * rows * sh - top, 0), h)
    hi = h if block == blocks - 1 else min(max((block + 1) * rows * sh - top, 0), h)
    return lo, hi


_owned_rows = njit(inline="always")(_owned_rows)


# ----------------------------------------------------------------- max pooling
@njit(**_JIT)
def max_pool_nhwc(x, kh, kw, sh, sw, top, left, ho, wo):
    n, h, w, c = x.shape
    out = np.empty((n, ho, wo, c), np.float32)
    for task in prange(n * ho):
        b, oh = task // ho, task % ho
        h0 = oh * sh - top
        i_lo, i_hi = _window(h0, kh, h)
        for ow in range(wo):
            w0 = ow * sw - left
            j_lo, j_hi = _window(w0, kw, w)
            for ch in range(c):
                out[b, oh, ow, ch] = _NEG_INF
            for i in range(i_lo, i_hi):
                for j in range(j_lo, j_hi):
                    for ch in range(c):
                        v, m = x[b, h0 + i, w0 + j, ch], out[b, oh, ow, ch]
                        out[b, oh, ow, ch] = v if (v > m) | (v != v) else m
    return out


@njit(**_JIT)
def max_pool_nchw(x, kh, kw, sh, sw, top, left, ho, wo):
    n, c, h, w = x.shape
    out = np.empty((n, c, ho, wo), np.float32)
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for oh in range(ho):
            h0 = oh * sh - top
            i_lo, i_hi = _window(h0, kh, h)
            for ow in range(wo):
                w0 = ow * sw - left
                j_lo, j_hi = _window(w0, kw, w)
                m = _NEG_INF
                for i in range(i_lo, i_hi):
                    for j in range(j_lo, j_hi):
                        v = x[b, ch, h0 + i, w0 + j]
                        m = v if (v > m) | (v != v) else m
                out[b, ch, oh, ow] = m
    return out


@njit(**_JIT)
def max_pool_grad_nhwc(x, dy, kh, kw, sh, sw, top, left, rows, partition):
    """Each dy goes to the first maximum of its window's real elements (row-major), the maximum
    found as TF's CPU kernel finds it: the first element, replaced only by a strictly greater one.
    With `partition` every input element lies in exactly one window and is written once."""
    n, h, w, c = x.shape
    ho, wo = dy.shape[1], dy.shape[2]
    blocks = (ho + rows - 1) // rows
    dx = np.empty_like(x)
    for task in prange(n * blocks):
        b, block = task // blocks, task % blocks
        if not partition:
            lo, hi = _owned_rows(block, blocks, rows, sh, top, h)
            dx[b, lo:hi] = 0
        best = np.empty(c, np.float32)
        arg = np.empty(c, np.int32)
        for oh in range(block * rows, min((block + 1) * rows, ho)):
            h0 = oh * sh - top
            i_lo, i_hi = _window(h0, kh, h)
            for ow in range(wo):
                w0 = ow * sw - left
                j_lo, j_hi = _window(w0, kw, w)
                if i_lo >= i_hi or j_lo >= j_hi:
                    continue
                first = np.int32(i_lo * kw + j_lo)
                for ch in range(c):
                    best[ch] = x[b, h0 + i_lo, w0 + j_lo, ch]
                    arg[ch] = first
                for i in range(i_lo, i_hi):
                    for j in range(j_lo, j_hi):
                        here = np.int32(i * kw + j)
                        for ch in range(c):
                            v, m = x[b, h0 + i, w0 + j, ch], best[ch]
                            greater = v > m
                            best[ch] = v if greater else m
                            arg[ch] = here if greater else arg[ch]
                zero = np.float32(0)
                for i in range(i_lo, i_hi):
                    for j in range(j_lo, j_hi):
                        here = np.int32(i * kw + j)
                        if partition:
                            for ch in range(c):
                                dx[b, h0 + i, w0 + j, ch] = dy[b, oh, ow, ch] if arg[ch] == here else zero
                        else:
                            for ch in range(c):
                                dx[b, h0 + i, w0 + j, ch] += dy[b, oh, ow, ch] if arg[ch] == here else zero
    return dx


@njit(**_JIT)
def max_pool_workspace_grad_nhwc(dy, workspace, dx, kh, kw, top, left):
    """dx from oneDNN's argmax workspace (the index of each window's maximum in its kh x kw window,
    padding counted) where the windows tile the input: every dx element lies in one window and is
    written once, its gradient or zero."""
    h, w, c = dx.shape[1], dx.shape[2], dx.shape[3]
    ho, wo = dy.shape[1], dy.shape[2]
    zero = np.float32(0)
    for task in prange(dy.shape[0] * ho):
        b, oh = task // ho, task % ho
        h0 = oh * kh - top
        for i in range(max(0, -h0), min(kh, h - h0)):
            for ow in range(wo):
                w0 = ow * kw - left
                for j in range(max(0, -w0), min(kw, w - w0)):
                    here = np.uint8(i * kw + j)
                    for ch in range(c):
                        dx[b, h0 + i, w0 + j, ch] = dy[b, oh, ow, ch] if workspace[b, oh, ow, ch] == here else zero


@njit(**_JIT)
def relu_max_pool_workspace_grad_nhwc(dy, pooled, workspace, dx, sums, row_sums, kh, kw, top, left):
    """max_pool_workspace_grad_nhwc of ReluGrad(dy, pooled) = dy * (pooled > 0) (a NaN gradient stays
    NaN, as in TF), and that product's sums per channel, added by each thread into its row of `sums`
    (float64, zeroed): the gradient of a ReLU before a max pooling, and of the layer's bias. A task
    adds its row of windows in its thread's float32 scratch row of `row_sums` first."""
    h, w, c = dx.shape[1], dx.shape[2], dx.shape[3]
    ho, wo = dy.shape[1], dy.shape[2]
    zero, one = np.float32(0), np.float32(1)
    for task in prange(dy.shape[0] * ho):
        b, oh = task // ho, task % ho
        thread = get_thread_id()
        for ch in range(c):
            row_sums[thread, ch] = zero
        for ow in range(wo):
            for ch in range(c):
                row_sums[thread, ch] += dy[b, oh, ow, ch] * (one if pooled[b, oh, ow, ch] > zero else zero)
        for ch in range(c):
            sums[thread, ch] += row_sums[thread, ch]
        h0 = oh * kh - top
        for i in range(max(0, -h0), min(kh, h - h0)):
            for ow in range(wo):
                w0 = ow * kw - left
                for j in range(max(0, -w0), min(kw, w - w0)):
                    here = np.uint8(i * kw + j)
                    for ch in range(c):
                        masked = dy[b, oh, ow, ch] * (one if pooled[b, oh, ow, ch] > zero else zero)
                        dx[b, h0 + i, w0 + j, ch] = masked if workspace[b, oh, ow, ch] == here else zero


@njit(**_JIT)
def max_pool_grad_nchw(x, dy, kh, kw, sh, sw, top, left):
    n, c, h, w = x.shape
    ho, wo = dy.shape[2], dy.shape[3]
    dx = np.empty_like(x)
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        dx[b, ch] = 0
        for oh in range(ho):
            h0 = oh * sh - top
            i_lo, i_hi = _window(h0, kh, h)
            for ow in range(wo):
                w0 = ow * sw - left
                j_lo, j_hi = _window(w0, kw, w)
                if i_lo >= i_hi or j_lo >= j_hi:
                    continue
                best_i, best_j = i_lo, j_lo
                best = x[b, ch, h0 + i_lo, w0 + j_lo]
                for i in range(i_lo, i_hi):
                    for j in range(j_lo, j_hi):
                        v = x[b, ch, h0 + i, w0 + j]
                        if v > best:
                            best, best_i, best_j = v, i, j
                dx[b, ch, h0 + best_i, w0 + best_j] += dy[b, ch, oh, ow]
    return dx


# ------------------------------------------------------------- average pooling
@njit(**_JIT)
def avg_pool_nhwc(x, kh, kw, sh, sw, top, left, ho, wo):
    """Window sums divided by the window's count of real elements (TF's SAME rule)."""
    n, h, w, c = x.shape
    out = np.empty((n, ho, wo, c), np.float32)
    for task in prange(n * ho):
        b, oh = task // ho, task % ho
        h0 = oh * sh - top
        i_lo, i_hi = _window(h0, kh, h)
        for ow in range(wo):
            w0 = ow * sw - left
            j_lo, j_hi = _window(w0, kw, w)
            for ch in range(c):
                out[b, oh, ow, ch] = 0
            for i in range(i_lo, i_hi):
                for j in range(j_lo, j_hi):
                    for ch in range(c):
                        out[b, oh, ow, ch] += x[b, h0 + i, w0 + j, ch]
            count = np.float32((i_hi - i_lo) * (j_hi - j_lo))
            for ch in range(c):
                out[b, oh, ow, ch] /= count
    return out


@njit(**_JIT)
def avg_pool_nchw(x, kh, kw, sh, sw, top, left, ho, wo):
    n, c, h, w = x.shape
    out = np.empty((n, c, ho, wo), np.float32)
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for oh in range(ho):
            h0 = oh * sh - top
            i_lo, i_hi = _window(h0, kh, h)
            for ow in range(wo):
                w0 = ow * sw - left
                j_lo, j_hi = _window(w0, kw, w)
                total = np.float32(0)
                for i in range(i_lo, i_hi):
                    for j in range(j_lo, j_hi):
                        total += x[b, ch, h0 + i, w0 + j]
                out[b, ch, oh, ow] = total / np.float32((i_hi - i_lo) * (j_hi - j_lo))
    return out


@njit(**_JIT)
def avg_pool_grad_nhwc(dy, h, w, kh, kw, sh, sw, top, left, rows, partition):
    """Each dy, divided by its window's count of real elements, added to every real element
    (written once when the windows `partition` the input)."""
    n, ho, wo, c = dy.shape
    blocks = (ho + rows - 1) // rows
    dx = np.empty((n, h, w, c), np.float32)
    for task in prange(n * blocks):
        b, block = task // blocks, task % blocks
        if not partition:
            lo, hi = _owned_rows(block, blocks, rows, sh, top, h)
            dx[b, lo:hi] = 0
        share = np.empty(c, np.float32)
        for oh in range(block * rows, min((block + 1) * rows, ho)):
            h0 = oh * sh - top
            i_lo, i_hi = _window(h0, kh, h)
            for ow in range(wo):
                w0 = ow * sw - left
                j_lo, j_hi = _window(w0, kw, w)
                count = np.float32((i_hi - i_lo) * (j_hi - j_lo))
                for ch in range(c):
                    share[ch] = dy[b, oh, ow, ch] / count
                for i in range(i_lo, i_hi):
                    for j in range(j_lo, j_hi):
                        if partition:
                            for ch in range(c):
                                dx[b, h0 + i, w0 + j, ch] = share[ch]
                        else:
                            for ch in range(c):
                                dx[b, h0 + i, w0 + j, ch] += share[ch]
    return dx


@njit(**_JIT)
def avg_pool_grad_nchw(dy, h, w, kh, kw, sh, sw, top, left):
    n, c, ho, wo = dy.shape
    dx = np.empty((n, c, h, w), np.float32)
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        dx[b, ch] = 0
        for oh in range(ho):
            h0 = oh * sh - top
            i_lo, i_hi = _window(h0, kh, h)
            for ow in range(wo):
                w0 = ow * sw - left
                j_lo, j_hi = _window(w0, kw, w)
                share = dy[b, ch, oh, ow] / np.float32((i_hi - i_lo) * (j_hi - j_lo))
                for i in range(i_lo, i_hi):
                    for j in range(j_lo, j_hi):
                        dx[b, ch, h0 + i, w0 + j] += share
    return dx


# ------------------------------------------------------------------ elementwise
@njit(**_JIT)
def relu_grad(gradients, features):
    """gradients * (features > 0) on flat arrays (so NaN or inf gradients at 0 give NaN, as NumPy)."""
    out = np.empty_like(gradients)
    for i in prange(gradients.size):
        out[i] = gradients[i] * np.float32(features[i] > 0)
    return out


@njit(**_JIT)
def relu_grad_into(gradients, features):
    """relu_grad written into `gradients` (one pass, no temporary)."""
    for i in prange(gradients.size):
        gradients[i] = gradients[i] * np.float32(features[i] > 0)
    return gradients


@njit(**_JIT)
def bias_add_last(value, bias):
    """value (rows, C) + bias (C,)."""
    rows, c = value.shape
    out = np.empty_like(value)
    for r in prange(rows):
        for ch in range(c):
            out[r, ch] = value[r, ch] + bias[ch]
    return out


@njit(**_JIT)
def bias_add_middle(value, bias):
    """value (N, C, S) + bias (C,) along axis 1."""
    n, c, s = value.shape
    out = np.empty_like(value)
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        add = bias[ch]
        for k in range(s):
            out[b, ch, k] = value[b, ch, k] + add
    return out


@njit(**_JIT)
def select_or_zero(condition, x, keep_where):
    """x where condition equals keep_where, else +0.0 (x's values moved as they are: NaN, -0.0)."""
    out = np.empty_like(x)
    zero = np.float32(0)
    for i in prange(x.size):
        out[i] = x[i] if condition[i] == keep_where else zero
    return out


@njit(parallel=True, cache=True, fastmath=False, error_model="numpy")
def dropout_select(uniform, rate, x, scale, divide, keep, out):
    """keep = uniform >= rate; out = x / scale (x * scale unless `divide`) where kept, else +0.0."""
    zero = np.float32(0)
    for i in prange(x.size):
        kept = uniform[i] >= rate
        keep[i] = kept
        value = x[i] / scale if divide else x[i] * scale
        out[i] = value if kept else zero


@njit(parallel=True, cache=True, fastmath=False, error_model="numpy")
def dropout_relu_grad(grad, keep, scale, divide, features, out):
    """out = (grad where keep, else +0.0) / scale (* scale unless `divide`), times (features > 0) as
    float32, as ReluGrad multiplies (so an infinite gradient at a non-positive feature gives NaN)."""
    zero = np.float32(0)
    for i in prange(grad.size):
        passed = grad[i] if keep[i] else zero
        value = passed / scale if divide else passed * scale
        out[i] = value * np.float32(features[i] > 0)


# ------------------------------------------------------------- softmax cross-entropy
# SoftmaxCrossEntropyWithLogits of the rows of `features` (rows x classes, classes >= 1), as the NumPy
# kernel computes it but for the sums and the log of each row's sum, taken in float64: `shifted` =
# features - the row's maximum (NaN where a NaN is in the row), its exp (NumPy's, between the two
# loops), loss = -sum(labels * (shifted - log(sum of exps))), backprop = exps / their sum - labels.
@njit(**_JIT)
def softmax_xent_shift(features, out, tops):
    """out = features - the row's maximum, kept in `tops`."""
    rows, classes = features.shape
    for r in prange(rows):
        top = features[r, 0]
        unordered = False
        for c in range(1, classes):
            x = features[r, c]
            if x > top:
                top = x
            elif x != x:
                unordered = True
        if unordered:
            top = np.float32(np.nan)
        tops[r] = top
        for c in range(classes):
            out[r, c] = features[r, c] - top


@njit(**_JIT)
def softmax_xent_finish(features, labels, exps, tops, loss):
    """The loss of each row into `loss`, and exps / their sum - labels into `exps`."""
    rows, classes = features.shape
    for r in prange(rows):
        total = 0.0
        for c in range(classes):
            total += exps[r, c]
        log_total = np.log(total)
        top = tops[r]
        cost = 0.0
        for c in range(classes):
            label = labels[r, c]
            cost -= label * ((features[r, c] - top) - log_total)
            exps[r, c] = np.float32(exps[r, c] / total) - label
        loss[r] = cost


@njit(cache=True, fastmath=False, error_model="numpy")
def dropout_relu_grad_sums(grad, keep, scale, divide, features, out, sums):
    """`dropout_relu_grad` of matrices (rows x columns) and the sums of out's rows into `sums`, added
    row by row in float64. One thread: a dense layer's gradient is small (a 100x200 one: 2.7 us here;
    over blocks of columns on two threads, 25 us)."""
    rows, cols = grad.shape
    zero = np.float32(0)
    totals = np.zeros(cols, np.float64)
    for r in range(rows):
        for c in range(cols):
            passed = grad[r, c] if keep[r, c] else zero
            value = passed / scale if divide else passed * scale
            v = value * np.float32(features[r, c] > 0)
            out[r, c] = v
            totals[c] += v
    for c in range(cols):
        sums[c] = totals[c]


# -------------------------------------------------------------- optimizer updates
# The same float32 operations, in the same order, as the NumPy variants of caudal.ops.training_ops.
# Each writes the new slot values and the new variable value into the `out_` arrays, which are either
# fresh or the inputs themselves (each element is read before it is written).
@njit(**_JIT)
def gradient_descent_update(value, alpha, delta, out_value):
    for i in prange(value.size):
        out_value[i] = value[i] - alpha * delta[i]


@njit(**_JIT)
def momentum_update(value, accum, lr, grad, momentum, momentum_lr, use_nesterov, out_accum, out_value):
    for i in prange(value.size):
        g = grad[i]
        a = accum[i] * momentum + g
        out_accum[i] = a
        step = a * momentum_lr + g * lr if use_nesterov else a * lr
        out_value[i] = value[i] - step


@njit(**_JIT, error_model="numpy")
def adam_update(value, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
                use_nesterov, out_m, out_v, out_value):
    # The coefficients as the NumPy variant computes them, in float32, a zero divisor giving inf
    # (NumPy's scalar operations took 9 us a step of benchmarks/mlp.py).
    one = np.float32(1)
    alpha = lr * np.sqrt(one - beta2_power) / (one - beta1_power)
    one_minus_beta1, one_minus_beta2 = one - beta1, one - beta2
    for i in prange(value.size):
        g, old_m, old_v = grad[i], m[i], v[i]
        a = (g - old_m) * one_minus_beta1 + old_m
        s = (g * g - old_v) * one_minus_beta2 + old_v
        out_m[i] = a
        out_v[i] = s
        denominator = np.sqrt(s) + epsilon
        numerator = a * beta1 + g * one_minus_beta1 if use_nesterov else a
        out_value[i] = value[i] - numerator / denominator * alpha


@njit(**_JIT)
def rms_prop_update(value, ms, mom, lr, one_minus_rho, momentum, epsilon, grad, out_ms, out_mom, out_value):
    for i in prange(value.size):
        g, old_ms = grad[i], ms[i]
        s = (g * g - old_ms) * one_minus_rho + old_ms
        out_ms[i] = s
        step = g / np.sqrt(s + epsilon) * lr + mom[i] * momentum
        out_mom[i] = step
        out_value[i] = value[i] - step


# -------------------------------------------------------------- random numbers
# NumPy's PCG64, the numpy backend's streams (numpy/random/src/pcg64): a 128-bit linear congruential
# state, state = state * MULTIPLIER + increment, each step giving the 64-bit XSL-RR output of the new
# state; a float32 takes 32 bits (the low half of a draw, the high half kept for the next one) as
# (bits >> 8) * 2^-24. The same numbers, drawn without NumPy's call per value, and split between
# threads by jumping ahead (Brown, "Random number generation with arbitrary strides", 1994).
_PCG_MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645
_MULTIPLIER_HI = np.uint64(_PCG_MULTIPLIER >> 64)
_MULTIPLIER_LO = np.uint64(_PCG_MULTIPLIER & 0xFFFFFFFFFFFFFFFF)
_I128 = ir.IntType(128)
_I64 = ir.IntType(64)


@intrinsic
def _mul_add_128(typingctx, a_hi, a_lo, b_hi, b_lo, c_hi, c_lo):
    """(a * b + c) mod 2^128 on numbers given as (high, low) uint64 halves."""
    signature = types.UniTuple(types.uint64, 2)(*([types.uint64] * 6))

    def codegen(context, builder, sig, args):
        def join(high, low):
            return builder.or_(builder.shl(builder.zext(high, _I128), ir.Constant(_I128, 64)),
                               builder.zext(low, _I128))

        result = builder.add(builder.mul(join(args[0], args[1]), join(args[2], args[3])), join(args[4], args[5]))
        high = builder.trunc(builder.lshr(result, ir.Constant(_I128, 64)), _I64)
        return context.make_tuple(builder, sig.return_type, [high, builder.trunc(result, _I64)])

    return signature, codegen


@njit(inline="always")
def _xsl_rr(hi, lo):
    x = hi ^ lo
    r = hi >> np.uint64(58)
    return (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))


@njit(inline="always")
def _pcg_advance(hi, lo, inc_hi, inc_lo, steps):
    """The state `steps` steps after (hi, lo)."""
    zero, one = np.uint64(0), np.uint64(1)
    mult_hi, mult_lo = zero, one
    plus_hi, plus_lo = zero, zero
    cur_mult_hi, cur_mult_lo = _MULTIPLIER_HI, _MULTIPLIER_LO
    cur_plus_hi, cur_plus_lo = inc_hi, inc_lo
    while steps > 0:
        if steps & 1:
            mult_hi, mult_lo = _mul_add_128(mult_hi, mult_lo, cur_mult_hi, cur_mult_lo, zero, zero)
            plus_hi, plus_lo = _mul_add_128(plus_hi, plus_lo, cur_mult_hi, cur_mult_lo, cur_plus_hi, cur_plus_lo)
        # cur_plus = (cur_mult + 1) * cur_plus; cur_mult = cur_mult^2
        cur_plus_hi, cur_plus_lo = _mul_add_128(cur_mult_hi, cur_mult_lo, cur_plus_hi, cur_plus_lo,
                                                cur_plus_hi, cur_plus_lo)
        cur_mult_hi, cur_mult_lo = _mul_add_128(cur_mult_hi, cur_mult_lo, cur_mult_hi, cur_mult_lo, zero, zero)
        steps >>= 1
    return _mul_add_128(mult_hi, mult_lo, hi, lo, plus_hi, plus_lo)


@njit(inline="always")
def _half_value(half):
    """The float32 of a 32-bit half of a draw, as NumPy makes it: (half >> 8) * 2^-24."""
    return np.float32(half >> np.uint64(8)) * np.float32(1.0 / 16777216.0)


@njit(inline="always")
def _store_pair(out, at, bits):
    """The two float32 values of a 64-bit draw, its low half first."""
    out[at] = _half_value(bits & np.uint64(0xFFFFFFFF))
    out[at + 1] = _half_value(bits >> np.uint64(32))


@njit(inline="always")
def _fill_pairs(out, hi, lo, inc_hi, inc_lo, first):
    """The draws `first`, `first + 1`, ... after the state (hi, lo) into `out` (two values each), as
    four runs of the stream stepped together (each step's 128-bit product waits on the last one's:
    1.5x faster than one run), then the rest one by one."""
    q = out.size // 8
    h0, l0 = _pcg_advance(hi, lo, inc_hi, inc_lo, np.uint64(first))
    h1, l1 = _pcg_advance(h0, l0, inc_hi, inc_lo, np.uint64(q))
    h2, l2 = _pcg_advance(h1, l1, inc_hi, inc_lo, np.uint64(q))
    h3, l3 = _pcg_advance(h2, l2, inc_hi, inc_lo, np.uint64(q))
    out1, out2, out3 = out[2 * q:], out[4 * q:], out[6 * q:]
    for p in range(q):
        h0, l0 = _mul_add_128(h0, l0, _MULTIPLIER_HI, _MULTIPLIER_LO, inc_hi, inc_lo)
        h1, l1 = _mul_add_128(h1, l1, _MULTIPLIER_HI, _MULTIPLIER_LO, inc_hi, inc_lo)
        h2, l2 = _mul_add_128(h2, l2, _MULTIPLIER_HI, _MULTIPLIER_LO, inc_hi, inc_lo)
        h3, l3 = _mul_add_128(h3, l3, _MULTIPLIER_HI, _MULTIPLIER_LO, inc_hi, inc_lo)
        _store_pair(out, 2 * p, _xsl_rr(h0, l0))
        _store_pair(out1, 2 * p, _xsl_rr(h1, l1))
        _store_pair(out2, 2 * p, _xsl_rr(h2, l2))
        _store_pair(out3, 2 * p, _xsl_rr(h3, l3))
    for p in range(4 * q, out.size // 2):
        h3, l3 = _mul_add_128(h3, l3, _MULTIPLIER_HI, _MULTIPLIER_LO, inc_hi, inc_lo)
        _store_pair(out, 2 * p, _xsl_rr(h3, l3))


@njit(**_JIT)
def pcg64_uniform_f32(out, words, kept, low_first, chunks):
    """Fills `out` with the next float32 values of a PCG64 stream, as NumPy's
    Generator.random(dtype=float32) does, in `chunks` parallel parts, and leaves the stream where
    NumPy would. `words` holds the 128-bit state and increment as four uint64 (each number's low word
    first when `low_first`, else its high word), `kept` the kept half (has_uint32, uinteger) as
    uint32: NumPy's own memory, or copies of its `state`."""
    if low_first:
        hi, lo, inc_hi, inc_lo = words[1], words[0], words[3], words[2]
    else:
        hi, lo, inc_hi, inc_lo = words[0], words[1], words[2], words[3]
    has_uint32 = kept[0]
    uinteger = np.uint64(kept[1])
    n = out.size
    start = 0
    if has_uint32 and n > 0:
        out[0] = _half_value(uinteger)
        start = 1
        has_uint32 = 0
    pairs = (n - start) // 2
    per_chunk = (pairs + chunks - 1) // chunks
    for chunk in prange(chunks):
        first = chunk * per_chunk
        last = min(pairs, first + per_chunk)
        if first < last:
            _fill_pairs(out[start + 2 * first:start + 2 * last], hi, lo, inc_hi, inc_lo, first)
    if pairs > 0:
        hi, lo = _pcg_advance(hi, lo, inc_hi, inc_lo, np.uint64(pairs))
        uinteger = _xsl_rr(hi, lo) >> np.uint64(32)
    if (n - start) % 2:
        hi, lo = _mul_add_128(hi, lo, _MULTIPLIER_HI, _MULTIPLIER_LO, inc_hi, inc_lo)
        bits = _xsl_rr(hi, lo)
        out[n - 1] = _half_value(bits & np.uint64(0xFFFFFFFF))
        has_uint32 = 1
        uinteger = bits >> np.uint64(32)
    if low_first:
        words[0], words[1] = lo, hi
    else:
        words[0], words[1] = hi, lo
    kept[0] = has_uint32
    kept[1] = np.uint32(uinteger)


# ----------------------------------------------------------------- rows added at indices
@njit(cache=True, error_model="numpy")
def add_rows_at(target, ids, rows, scale):
    """target[ids[i]] += scale * rows[i] for each i in turn (ids outside [0, rows of target) skipped):
    one thread, in order, so repeated ids add up as NumPy's `np.add.at` / `np.subtract.at` do
    (scale -1: x + (-1 * r) is x - r to the bit)."""
    n = target.shape[0]
    for i in range(ids.size):
        r = ids[i]
        if r >= 0 and r < n:
            for j in range(rows.shape[1]):
                target[r, j] += scale * rows[i, j]
    return target


# ------------------------------------------------------------------ matrix products
_I8 = ir.IntType(8)
_I32 = ir.IntType(32)
_F32_IR = ir.FloatType()
_BYTES = _I8.as_pointer()
# dnnl_status_t dnnl_sgemm(char transa, char transb, dnnl_dim_t M, dnnl_dim_t N, dnnl_dim_t K, float alpha,
#                          const float *A, dnnl_dim_t lda, const float *B, dnnl_dim_t ldb, float beta,
#                          float *C, dnnl_dim_t ldc), row-major
_SGEMM = ir.FunctionType(_I32, [_I8, _I8, _I64, _I64, _I64, _F32_IR, _BYTES, _I64, _BYTES, _I64, _F32_IR,
                                _BYTES, _I64])


@intrinsic
def _call_sgemm(typingctx, function, transa, transb, m, n, k, a, lda, b, ldb, c):
    """dnnl_sgemm at address `function` (alpha 1, beta 0), the operands given by address: called as C
    calls it, without ctypes' conversion of each argument (a microsecond a call)."""
    signature = types.int32(types.intp, types.intp, types.intp, types.intp, types.intp, types.intp,
                            types.uintp, types.intp, types.uintp, types.intp, types.uintp)

    def codegen(context, builder, sig, args):
        address, ta, tb, m, n, k, a, lda, b, ldb, c = args
        callee = builder.inttoptr(address, _SGEMM.as_pointer())
        one, zero = ir.Constant(_F32_IR, 1.0), ir.Constant(_F32_IR, 0.0)
        return builder.call(callee, [builder.trunc(ta, _I8), builder.trunc(tb, _I8), m, n, k, one,
                                     builder.inttoptr(a, _BYTES), lda, builder.inttoptr(b, _BYTES), ldb, zero,
                                     builder.inttoptr(c, _BYTES), n])

    return signature, codegen


@njit(inline="always")
def _gemm_operand(x, transposed):
    """(the sgemm flag, leading dimension) of a C- or F-contiguous matrix used transposed or not; an
    F-contiguous one is the transpose of a C-contiguous one in the same memory. (0, 0) for others."""
    if x.flags.c_contiguous:
        return (84 if transposed else 78), x.shape[1]  # 'T', 'N'
    if x.flags.f_contiguous:
        return (78 if transposed else 84), x.shape[0]
    return 0, 0


@njit(cache=True, nogil=True)
def sgemm_product(sgemm, a, b, transpose_a, transpose_b, out):
    """out = op(a) @ op(b) by oneDNN's dnnl_sgemm at address `sgemm` (out C-contiguous, of the product's
    shape); its status, or -1 where an operand is neither C- nor F-contiguous."""
    flag_a, lda = _gemm_operand(a, transpose_a)
    flag_b, ldb = _gemm_operand(b, transpose_b)
    if flag_a == 0 or flag_b == 0:
        return -1
    m, n = out.shape
    k = a.shape[0] if transpose_a else a.shape[1]
    return _call_sgemm(sgemm, flag_a, flag_b, m, n, k, a.ctypes.data, lda, b.ctypes.data, ldb, out.ctypes.data)


# ------------------------------------------------------------------ one-thread twins
def _serial_twin(kernel):
    """`kernel` (a parallel loop above) compiled without threads, under its own name (numba's cache
    keys a kernel by its name, not its options); its body divides as a parallel loop's does."""
    f = kernel.py_func
    twin = FunctionType(f.__code__, f.__globals__, f.__name__ + "_one_thread", f.__defaults__, f.__closure__)
    twin.__qualname__ = f.__qualname__ + "_one_thread"
    twin.__doc__ = f.__doc__
    return njit(cache=True, fastmath=False, error_model="numpy")(twin)


# The loops of a small training step's dropout and loss, whose launch on one thread costs as much as
# their pass (a parallel loop's launch: about a microsecond); `loops._run_on` runs these twins there.
# Only loops that write no array they read: an in-place loop compiled without threads checks whether
# its arrays overlap, finds they do, and runs unvectorized (an Adam update ten times slower).
ONE_THREAD_TWINS = {kernel: _serial_twin(kernel) for kernel in (
    dropout_select, dropout_relu_grad, pcg64_uniform_f32, softmax_xent_shift, softmax_xent_finish)}
ONE_THREAD_TWINS[dropout_relu_grad_sums] = dropout_relu_grad_sums  # a loop without threads: its own twin
