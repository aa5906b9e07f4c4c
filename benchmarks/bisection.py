"""Bisection step graph: microseconds per Session.run, against the same arithmetic in NumPy.

The seed tutorial's yield-to-maturity bisection: each step evaluates the bond
price at the midpoint and moves one end of the bracket. Both versions run
STEPS steps in this process; the ratio is caudal's time over NumPy's.
Target (issue 2): ratio <= 3.
"""
from __future__ import annotations

import time

import numpy as np

import caudal as tf

STEPS = 5000
TARGET = np.float32(95.0)


def caudal_steps(steps: int) -> tuple[float, float]:
    graph = tf.Graph()
    with graph.as_default():
        C = tf.constant(5.0)
        P = tf.constant(100.0)
        a = tf.Variable(-10.0)
        b = tf.Variable(10.0)
        v_target = tf.placeholder("float")
        y = (a + b) / 2
        v_guess = C * tf.exp(-0.5 * y) + C * tf.exp(-y) + C * tf.exp(-1.5 * y) + (C + P) * tf.exp(-2 * y)
        a_ = tf.where(v_guess > v_target, y, a)
        b_ = tf.where(v_guess < v_target, y, b)
        step = tf.group(a.assign(a_), b.assign(b_))
        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        feed = {v_target: 95.0}
        sess.run(step, feed_dict=feed)
        start = time.perf_counter()
        for _ in range(steps):
            sess.run(step, feed_dict=feed)
        elapsed = time.perf_counter() - start
        return elapsed, float(sess.run(y))


def numpy_steps(steps: int) -> tuple[float, float]:
    """The same arithmetic on float32 NumPy scalars, one expression per graph op."""
    C = np.float32(5.0)
    P = np.float32(100.0)
    a = np.float32(-10.0)
    b = np.float32(10.0)
    start = time.perf_counter()
    for _ in range(steps):
        v_target = np.array(95.0, dtype=np.float32)
        y = (a + b) / np.float32(2)
        v_guess = (C * np.exp(np.float32(-0.5) * y) + C * np.exp(-y) + C * np.exp(np.float32(-1.5) * y)
                   + (C + P) * np.exp(np.float32(-2) * y))
        a_new = np.where(v_guess > v_target, y, a)
        b_new = np.where(v_guess < v_target, y, b)
        a, b = a_new, b_new
    elapsed = time.perf_counter() - start
    return elapsed, float((a + b) / 2)


def main() -> None:
    caudal_time, caudal_y = caudal_steps(STEPS)
    numpy_time, numpy_y = numpy_steps(STEPS)
    per_run = caudal_time / STEPS * 1e6
    per_numpy = numpy_time / STEPS * 1e6
    print(f"caudal: {per_run:8.1f} us per Session.run   (y = {caudal_y:.6f})")
    print(f"numpy:  {per_numpy:8.1f} us per step          (y = {numpy_y:.6f})")
    print(f"ratio:  {per_run / per_numpy:8.2f}  (target <= 3)")


if __name__ == "__main__":
    main()
