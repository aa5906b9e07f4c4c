"""Records: none. `_Send` and `_Recv` exist only in the partitions a distributed Session runs on
its tasks, where a step's rendezvous connects them; they are checked by running partitioned
graphs across servers."""

RECORDS: list = []

COVERED_ELSEWHERE = {
    "_Send": "tests/test_distributed_runtime.py (every edge between two tasks)",
    "_Recv": "tests/test_distributed_runtime.py (every edge between two tasks)",
}
