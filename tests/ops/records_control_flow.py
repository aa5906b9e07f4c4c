"""Control-flow and list ops: their semantics are whole-loop semantics, checked by program tests."""
RECORDS: list = []
COVERED_ELSEWHERE = {
    "Enter": "tests/test_while_loop.py",
    "Exit": "tests/test_while_loop.py",
    "NextIteration": "tests/test_while_loop.py",
    "LoopCond": "tests/test_while_loop.py",
    "EmptyTensorList": "tests/test_while_loop.py (loop gradients keep their histories in TensorLists)",
    "TensorListPushBack": "tests/test_while_loop.py",
    "TensorListPopBack": "tests/test_while_loop.py",
    "TensorListLength": "tests/test_while_loop.py::test_tensor_list_ops",
    "TensorListStack": "tests/test_while_loop.py::test_tensor_list_ops",
}
