"""Records: the fused optimizer updates are stateful, so tests/test_optimizers.py checks them."""
RECORDS: list = []

COVERED_ELSEWHERE = {
    op: "tests/test_optimizers.py (10 steps matched to TensorFlow's recorded values)"
    for op in ("ApplyMomentum", "ApplyAdam", "ApplyAdagrad", "ApplyAdadelta", "ApplyRMSProp",
               "ApplyCenteredRMSProp", "ApplyFtrl", "ApplyFtrlV2", "ApplyProximalGradientDescent",
               "ApplyProximalAdagrad")
}
