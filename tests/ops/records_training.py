"""Records: the fused optimizer updates are stateful, so tests/test_optimizers.py and
tests/test_sparse_updates.py check them."""
RECORDS: list = []

COVERED_ELSEWHERE = {
    op: "tests/test_optimizers.py (10 steps matched to TensorFlow's recorded values)"
    for op in ("ApplyMomentum", "ApplyAdam", "ApplyAdagrad", "ApplyAdadelta", "ApplyRMSProp",
               "ApplyCenteredRMSProp", "ApplyFtrl", "ApplyFtrlV2", "ApplyProximalGradientDescent",
               "ApplyProximalAdagrad")
}
COVERED_ELSEWHERE.update({
    op: "tests/test_sparse_updates.py (one run with a repeated index and optimizer steps matched to TensorFlow's "
        "recorded values, on every backend; errors)"
    for op in ("SparseApplyMomentum", "SparseApplyAdagrad", "SparseApplyAdadelta", "SparseApplyRMSProp",
               "SparseApplyCenteredRMSProp", "SparseApplyFtrl", "SparseApplyFtrlV2",
               "SparseApplyProximalGradientDescent", "SparseApplyProximalAdagrad")
})
