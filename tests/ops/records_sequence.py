"""Records: reverse_sequence (ReverseSequence), against a per-row NumPy reference."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, integers, uniform


def _reference(x, lengths, seq_axis, batch_axis):
    out = np.array(x, copy=True)
    moved = np.moveaxis(out, (batch_axis, seq_axis), (0, 1))
    source = np.moveaxis(np.asarray(x), (batch_axis, seq_axis), (0, 1))
    for b, n in enumerate(np.asarray(lengths)):
        moved[b, :n] = source[b, :n][::-1]
    return out


RECORDS = [
    OpRecord("reverse_sequence_batch_major", lambda x, n: tf.reverse_sequence(x, n, seq_axis=1, batch_axis=0),
             lambda x, n: _reference(x, n, 1, 0), [uniform(3, 4, 2), np.array([4, 0, 2], np.int32)], const=(1,)),
    OpRecord("reverse_sequence_time_major_int64", lambda x, n: tf.reverse_sequence(x, n, seq_axis=0, batch_axis=1),
             lambda x, n: _reference(x, n, 0, 1), [uniform(5, 3), np.array([1, 5, 3], np.int64)], const=(1,)),
    OpRecord("reverse_sequence_batch_after_seq_rank4",
             lambda x, n: tf.reverse_sequence(x, n, seq_axis=1, batch_axis=2),
             lambda x, n: _reference(x, n, 1, 2), [uniform(2, 4, 3, 2), np.array([2, 4, 3], np.int32)], const=(1,)),
    OpRecord("reverse_sequence_old_names_int", lambda x, n: tf.reverse_sequence(x, n, seq_dim=1, batch_dim=0),
             lambda x, n: _reference(x, n, 1, 0), [integers(2, 3), np.array([3, 2], np.int32)], const=(1,)),
]
