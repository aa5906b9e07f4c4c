"""Candidate samplers are random: their distributions, uniqueness and expected counts are
checked in tests/test_sampled_losses.py."""
RECORDS = []

COVERED_ELSEWHERE = {
    "LogUniformCandidateSampler": "tests/test_sampled_losses.py",
    "UniformCandidateSampler": "tests/test_sampled_losses.py",
}
