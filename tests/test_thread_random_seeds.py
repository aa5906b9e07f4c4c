"""Seeded random ops built by several threads at once never give those threads the same numbers."""
from __future__ import annotations

import sys
import threading

import caudal as tf
from caudal.framework import random_seed


def test_an_op_count_claimed_by_another_thread_is_skipped():
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(3)
        tf.constant(1.0)
        first = random_seed.get_seed(None)
        assert random_seed.get_seed(None) == first == (3, 1)  # one thread alone: TF's seeds
        seen = []

        def claim() -> None:
            with graph.as_default():
                seen.append(random_seed.get_seed(None))

        thread = threading.Thread(target=claim)
        thread.start()
        thread.join(timeout=30)
        assert seen == [(3, 2)]
        tf.constant(2.0)
        tf.constant(3.0)
        assert random_seed.get_seed(None) == (3, 3)  # past the claimed counts, the op count again


def _build_at_once(count: int) -> tuple[tf.Graph, list]:
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(1)
    outputs: list = [None] * count
    barrier = threading.Barrier(count)

    def build(i: int) -> None:
        with graph.as_default():
            barrier.wait(timeout=30)
            outputs[i] = tf.random_uniform([4])

    threads = [threading.Thread(target=build, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return graph, outputs


def test_threads_building_seeded_random_ops_at_once_draw_different_numbers():
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(20):
            graph, outputs = _build_at_once(6)
            seeds = [out.op.get_attr("seed2") for out in outputs]
            assert len(set(seeds)) == len(seeds)
            with tf.Session(graph=graph) as sess:
                values = sess.run(outputs)
            assert len({tuple(v) for v in values}) == len(values)
    finally:
        sys.setswitchinterval(interval)
