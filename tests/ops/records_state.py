"""ScatterAdd, ScatterSub and ScatterUpdate (tf.scatter_*) write a variable, so a record, whose inputs
are plain tensors, cannot build them: their values, errors and backends are checked where named below."""

RECORDS: list = []

COVERED_ELSEWHERE = {
    "ScatterAdd": "tests/test_metrics_helpers.py (test_scatter_add, test_scatter_add_bad_arguments)",
    "ScatterSub": "tests/test_sparse_updates.py (test_scatter_sub_adds_up_repeated_indices)",
    "ScatterUpdate": "tests/test_sparse_updates.py (test_scatter_update_replaces_rows)",
}
