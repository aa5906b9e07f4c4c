"""tools/api_coverage.py: the TF1 API coverage table is computed from the committed names list alone."""
from __future__ import annotations

import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load_tool():
    spec = importlib.util.spec_from_file_location("api_coverage", os.path.join(ROOT, "tools", "api_coverage.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["api_coverage"] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["api_coverage"]
    return module


def test_api_coverage_table_runs_without_tensorflow():
    coverage_tool = _load_tool()
    names = coverage_tool.read_names()
    coverage = coverage_tool.compute(names)
    assert coverage.total == len(names) > 3000
    for name in ["tf.arg_max", "tf.to_bfloat16", "tf.logging.log_every_n", "tf.app.run", "tf.app.flags.DEFINE_enum",
                 "tf.flags", "tf.gfile.Walk", "tf.io.gfile.rmtree", "tf.initialize_all_variables",
                 "tf.random.categorical", "tf.test.TestCase", "tf.nn.xw_plus_b", "tf.summary.FileWriter"]:
        assert name in coverage.present, name
    page = coverage_tool.render(coverage)
    assert "| `tf.raw_ops` (module, " in page
    assert coverage_tool.reason("tf.FIFOQueue") == coverage_tool.QUEUES
    assert coverage_tool.reason("tf.fft2d") == coverage_tool.FFT and coverage_tool.reason("tf.estimator.Estimator") \
        == coverage_tool.ESTIMATORS and coverage_tool.reason("tf.zeta") == coverage_tool.NOT_IMPLEMENTED


def test_every_missing_name_has_one_row_and_a_reason():
    coverage_tool = _load_tool()
    coverage = coverage_tool.compute()
    rows = [line for line in coverage_tool.render(coverage).splitlines() if line.startswith("| `")]
    assert len(rows) == len(coverage.missing)
    assert all(row.count(" | ") == 2 and not row.endswith("|  |") for row in rows)
    assert len(coverage.present) + len(coverage.missing) + sum(coverage.modules.values()) == coverage.total
