"""ScatterAdd (tf.scatter_add) writes a variable, so a record, whose inputs are plain tensors,
cannot build it: its values, errors and both backends are checked in tests/test_metrics_helpers.py."""

RECORDS: list = []

COVERED_ELSEWHERE = {
    "ScatterAdd": "tests/test_metrics_helpers.py (test_scatter_add, test_scatter_add_bad_arguments)",
}
