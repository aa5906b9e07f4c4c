"""Op families registered lazily load when first needed, and their lists match what they register."""
from __future__ import annotations

import importlib
import subprocess
import sys

from caudal.framework import registry


def test_lazy_lists_match_the_modules():
    modules = set(registry._LAZY.values())
    assert modules == {"caudal.ops.tensor_array_ops", "caudal.ops.stack_ops", "caudal.ops.list_ops",
                       "caudal.ops.candidate_sampling_ops", "caudal.ops.sparse_ops", "caudal.ops.parsing_ops",
                       "caudal.ops.decode_ops", "caudal.ops.string_ops", "caudal.ops.regex_ops", "caudal.ops.state_ops",
                       "caudal.ops.image_codec_ops", "caudal.ops.image_resize_ops", "caudal.ops.image_adjust_ops",
                       "caudal.ops.io_ops", "caudal.ops.script_ops", "caudal.ops.categorical_ops",
                       "caudal.ops.sparse_rows_ops", "caudal.ops.sparse_segment_ops", "caudal.ops.lookup_ops",
                       "caudal.ops.queue_ops", "caudal.ops.reader_ops", "caudal.ops.sparse_training_ops",
                       "caudal.ops.counter_ops", "caudal.ops.sendrecv_ops", "caudal.ops.accumulator_ops"}
    for module in modules:
        importlib.import_module(module)
        registered = {t for t, d in registry._REGISTRY.items() if getattr(d.kernel, "__module__", None) == module}
        declared = {t for t, m in registry._LAZY.items() if m == module}
        assert registered == declared, module


def test_import_caudal_loads_none_of_them_and_a_graph_def_loads_them():
    code = ("import sys, caudal as tf\n"
            "lazy = ['caudal.ops.tensor_array_ops', 'caudal.ops.stack_ops', 'caudal.ops.list_ops']\n"
            "assert not any(m in sys.modules for m in lazy), [m for m in lazy if m in sys.modules]\n"
            "with tf.Graph().as_default() as g:\n"
            "    tf.constant(2, name='n')\n"
            "gd = g.as_graph_def()\n"
            "node = gd.node.add(); node.name = 'ta'; node.op = 'TensorArrayV3'; node.input.append('n')\n"
            "node.attr['dtype'].type = 1\n"
            "tf.import_graph_def(gd, name='')\n"
            "assert 'caudal.ops.tensor_array_ops' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
