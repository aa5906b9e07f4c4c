"""Records: the checkpoint ops touch files (or only make sense on strings), so tests/test_checkpoints.py checks them."""
RECORDS: list = []

COVERED_ELSEWHERE = {
    "SaveV2": "tests/test_checkpoints.py (bytes equal to TensorFlow's for every dtype)",
    "RestoreV2": "tests/test_checkpoints.py (TF-written checkpoints, slices, dtype and key errors)",
    "MergeV2Checkpoints": "tests/test_checkpoints.py (caudal's and TF's sharded Saver graphs)",
    "ShardedFilename": "tests/test_checkpoints.py (TF's sharded Saver graph run in caudal)",
    "StringJoin": "tests/test_checkpoints.py (TF's sharded Saver graph run in caudal)",
    "StaticRegexFullMatch": "tests/test_checkpoints.py (TF's sharded Saver graph), tests/test_regex_ops.py",
}
