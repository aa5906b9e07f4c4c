"""Summary ops: their kernels produce serialized protobufs, checked in tests/test_summary.py."""
import caudal.summary  # noqa: F401 - registers the summary ops

RECORDS: list = []

COVERED_ELSEWHERE = {
    "ScalarSummary": "tests/test_summary.py",
    "HistogramSummary": "tests/test_summary.py",
    "ImageSummary": "tests/test_summary.py",
    "AudioSummaryV2": "tests/test_summary.py",
    "TensorSummaryV2": "tests/test_summary.py",
    "MergeSummary": "tests/test_summary.py",
}
