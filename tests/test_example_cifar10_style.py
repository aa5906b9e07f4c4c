"""The CIFAR-10-style queue pipeline example: fixed-length records written from MNIST, read by
string_input_producer -> FixedLengthRecordReader -> decode_raw -> shuffle_batch under a Coordinator.
The full run is marked slow; a short run checks that the pipeline feeds training that learns."""
from __future__ import annotations

import threading

import pytest

from caudal.examples import cifar10_style_input

NO_DATA = ["--data_dir", "/nonexistent-mnist-dir"]


def test_short_run_learns_from_the_records_it_wrote(tmp_path):
    threads = threading.active_count()
    accuracy = cifar10_style_input.main(NO_DATA + ["--records_dir", str(tmp_path), "--steps", "60",
                                                   "--min_after_dequeue", "200"])
    assert accuracy >= 0.75
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"data_batch_{i}.bin" for i in range(1, 6)] + [
        "test_batch.bin"]
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) == 10_000 * 785
    assert threading.active_count() == threads  # the queue runners ended with the Coordinator


@pytest.mark.slow
def test_full_run_reaches_its_accuracy(tmp_path):
    assert cifar10_style_input.main(NO_DATA + ["--records_dir", str(tmp_path)]) >= 0.94
