"""Records: ComputeAccidentalHits. The candidate samplers are random: their distributions,
uniqueness and expected counts are checked in tests/test_sampled_losses.py."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord


def _hits(true_classes, sampled):
    last = {int(c): j for j, c in enumerate(sampled)}
    found = [(i, last[int(c)]) for i, row in enumerate(true_classes) for c in row if int(c) in last]
    rows = np.array([i for i, _ in found], np.int32)
    positions = np.array([j for _, j in found], np.int64)
    return rows, positions, np.full(len(found), -np.finfo(np.float32).max, np.float32)


RECORDS = [
    OpRecord("compute_accidental_hits", lambda t, s: tf.nn.compute_accidental_hits(t, s, num_true=2), _hits,
             [np.array([[2, 7], [5, 2], [0, 1]], np.int64), np.array([2, 3, 2, 5, 9], np.int64)],
             static_full=False, grad=False),
]

COVERED_ELSEWHERE = {
    "LogUniformCandidateSampler": "tests/test_sampled_losses.py",
    "UniformCandidateSampler": "tests/test_sampled_losses.py",
}
