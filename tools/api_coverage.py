"""Which names of TF1's public API caudal has: writes docs/api_coverage.md.

    python tools/api_coverage.py            # rewrite docs/api_coverage.md
    python tools/api_coverage.py --stdout   # print the page instead

It reads tools/tf1_api_names.txt (written once from TensorFlow by
tools/make_tf1_api_names.py), looks every name up in `caudal` attribute by
attribute (`tf.nn.rnn_cell.LSTMCell` is `caudal.nn.rnn_cell.LSTMCell`), and
lists the names caudal lacks with the reason: the open issue they belong to,
or that caudal does not implement them. A module caudal lacks entirely is one
row. TensorFlow is not needed.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMES = os.path.join(ROOT, "tools", "tf1_api_names.txt")
PAGE = os.path.join(ROOT, "docs", "api_coverage.md")

KERAS = "Keras (open issue)"
ESTIMATORS = "Estimators (open issue)"
DISTRIBUTED = "distributed training (open issue)"
QUEUES = "queue input pipelines (TF1 long tail, item 3)"
SPARSE = "SparseTensor ops (not implemented beyond tf.sparse's basics)"
STRINGS = "string ops (not implemented beyond tf.strings' basics)"
TF2 = "TF2, eager or tf.function machinery: caudal is TF1 graph mode"
BUILD = "facts of TensorFlow's C++ build or its custom-op loading"
DEPLOY = "export, serving and compilers (SavedModel, TFLite, MLIR, XLA, TPU, profiler): out of scope"
QUANTIZED = "quantized types and ops (not implemented)"
FFT = "FFT and signal processing ops (not implemented)"
LINOP = "linear operators (not implemented)"
LOOKUP = "lookup tables (not implemented)"
ABSL = "absl.flags internals beyond what TF programs use (not provided)"
DATA = "tf.data beyond the core Dataset API (not implemented)"
IMAGE = "image ops (not implemented)"
ASSERTS = "assertion ops (tf.debugging.assert_*, not implemented yet)"
SCATTER = "scatter updates of variables and tensors (not implemented yet)"
SEGMENTS = "segment reductions other than sum (not implemented)"
DECOMPOSITIONS = "matrix decompositions and solvers (not implemented)"
THREE_D = "3-D convolutions and pooling (not implemented)"
CTC = "CTC loss and decoders (not implemented)"
SPACE_TO = "space/batch/depth rearrangements (not implemented)"
DENSE_GRADIENTS = "IndexedSlices: caudal's gradients of gathers are dense tensors"
NOT_IMPLEMENTED = "not implemented"

# (name, reason): the first rule that matches wins. A rule matches its name and, for a module, the names in it;
# a rule ending in "*" matches every name that starts with what precedes the "*".
RULES: list[tuple[str, str]] = [
    ("tf.raw_ops", "op-level API (tf.raw_ops): not provided; the tf.* functions build the same ops"),
    ("tf.app.flags", ABSL), ("tf.data", DATA), ("tf.image", IMAGE), ("tf.io.decode_bmp", IMAGE),
    ("tf.io.decode_gif", IMAGE), ("tf.io.decode_webp", IMAGE), ("tf.io.decode_jxl", IMAGE),
    ("tf.io.decode_and_crop_jpeg", IMAGE), ("tf.io.extract_jpeg_shape", IMAGE), ("tf.io.is_jpeg", IMAGE),
    ("tf.IndexedSlices", DENSE_GRADIENTS), ("tf.assert_*", ASSERTS), ("tf.debugging.assert_*", ASSERTS),
    ("tf.scatter_*", SCATTER), ("tf.tensor_scatter_*", SCATTER), ("tf.batch_scatter_update", SCATTER),
    ("tf.segment_*", SEGMENTS), ("tf.unsorted_segment_*", SEGMENTS), ("tf.math.segment_*", SEGMENTS),
    ("tf.math.unsorted_segment_*", SEGMENTS), ("tf.qr", DECOMPOSITIONS), ("tf.svd", DECOMPOSITIONS),
    ("tf.self_adjoint_eig*", DECOMPOSITIONS), ("tf.matrix_solve_ls", DECOMPOSITIONS),
    ("tf.matrix_square_root", DECOMPOSITIONS), ("tf.matrix_triangular_solve", DECOMPOSITIONS),
    ("tf.cholesky_solve", DECOMPOSITIONS), ("tf.linalg.qr", DECOMPOSITIONS), ("tf.linalg.svd", DECOMPOSITIONS),
    ("tf.linalg.eig*", DECOMPOSITIONS), ("tf.linalg.lu*", DECOMPOSITIONS), ("tf.linalg.lstsq", DECOMPOSITIONS),
    ("tf.linalg.pinv", DECOMPOSITIONS), ("tf.linalg.matrix_rank", DECOMPOSITIONS),
    ("tf.linalg.slogdet", DECOMPOSITIONS), ("tf.linalg.sqrtm", DECOMPOSITIONS), ("tf.linalg.expm", DECOMPOSITIONS),
    ("tf.linalg.logm", DECOMPOSITIONS), ("tf.linalg.triangular_solve", DECOMPOSITIONS),
    ("tf.linalg.tridiagonal_*", DECOMPOSITIONS), ("tf.linalg.cholesky_solve", DECOMPOSITIONS),
    ("tf.nn.conv3d*", THREE_D), ("tf.nn.avg_pool3d", THREE_D), ("tf.nn.max_pool3d", THREE_D),
    ("tf.layers.Conv3D", THREE_D), ("tf.layers.Conv3DTranspose", THREE_D),
    ("tf.layers.AveragePooling3D", THREE_D), ("tf.layers.MaxPooling3D", THREE_D), ("tf.layers.conv3d*", THREE_D),
    ("tf.layers.average_pooling3d", THREE_D), ("tf.layers.max_pooling3d", THREE_D), ("tf.nn.ctc_*", CTC),
    ("tf.space_to_*", SPACE_TO), ("tf.batch_to_space*", SPACE_TO), ("tf.depth_to_space", SPACE_TO),
    ("tf.nn.space_to_*", SPACE_TO), ("tf.nn.depth_to_space", SPACE_TO), ("tf.manip.space_to_batch_nd", SPACE_TO),
    ("tf.manip.batch_to_space_nd", SPACE_TO), ("tf.required_space_to_batch_paddings", SPACE_TO),
    ("tf.nn.with_space_to_batch", SPACE_TO),
    ("tf.keras", KERAS), ("tf.layers.experimental", KERAS),
    ("tf.estimator", ESTIMATORS), ("tf.feature_column", ESTIMATORS), ("tf.train.VocabInfo", ESTIMATORS),
    ("tf.train.warm_start", ESTIMATORS),
    ("tf.distribute", DISTRIBUTED), ("tf.train.Server", DISTRIBUTED), ("tf.train.ClusterSpec", DISTRIBUTED),
    ("tf.train.ClusterDef", DISTRIBUTED), ("tf.train.JobDef", DISTRIBUTED), ("tf.train.ServerDef", DISTRIBUTED),
    ("tf.train.replica_device_setter", DISTRIBUTED), ("tf.train.SyncReplicasOptimizer", DISTRIBUTED),
    ("tf.test.create_local_cluster", DISTRIBUTED), ("tf.nn.compute_average_loss", DISTRIBUTED),
    ("tf.nn.scale_regularization_loss", DISTRIBUTED), ("tf.VariableAggregation", DISTRIBUTED),
    ("tf.VariableSynchronization", DISTRIBUTED),
    ("tf.queue", QUEUES), ("tf.FIFOQueue", QUEUES), ("tf.PaddingFIFOQueue", QUEUES), ("tf.PriorityQueue", QUEUES),
    ("tf.RandomShuffleQueue", QUEUES), ("tf.QueueBase", QUEUES), ("tf.ConditionalAccumulator", QUEUES),
    ("tf.SparseConditionalAccumulator", QUEUES), ("tf.ReaderBase", QUEUES), ("tf.WholeFileReader", QUEUES),
    ("tf.TFRecordReader", QUEUES), ("tf.TextLineReader", QUEUES), ("tf.FixedLengthRecordReader", QUEUES),
    ("tf.IdentityReader", QUEUES), ("tf.LMDBReader", QUEUES), ("tf.train.QueueRunner", QUEUES),
    ("tf.train.queue_runner", QUEUES), ("tf.train.add_queue_runner", QUEUES),
    ("tf.train.start_queue_runners", QUEUES), ("tf.train.batch", QUEUES), ("tf.train.shuffle_batch", QUEUES),
    ("tf.train.maybe_*", QUEUES), ("tf.train.input_producer", QUEUES), ("tf.train.string_input_producer", QUEUES),
    ("tf.train.range_input_producer", QUEUES), ("tf.train.slice_input_producer", QUEUES),
    ("tf.train.limit_epochs", QUEUES), ("tf.train.match_filenames_once", QUEUES),
    ("tf.ConditionalAccumulatorBase", QUEUES), ("tf.io.PaddingFIFOQueue", QUEUES), ("tf.io.PriorityQueue", QUEUES),
    ("tf.io.QueueBase", QUEUES), ("tf.io.RandomShuffleQueue", QUEUES), ("tf.io.match_filenames_once", QUEUES),
    ("tf.train.batch_join", QUEUES), ("tf.train.shuffle_batch_join", QUEUES),
    ("tf.sparse", SPARSE), ("tf.sparse_*", SPARSE), ("tf.io.SparseFeature", SPARSE),
    ("tf.io.serialize_sparse", SPARSE), ("tf.io.serialize_many_sparse", SPARSE),
    ("tf.io.deserialize_many_sparse", SPARSE),
    ("tf.SparseFeature", SPARSE), ("tf.SparseTensorSpec", SPARSE),
    ("tf.serialize_sparse", SPARSE), ("tf.serialize_many_sparse", SPARSE), ("tf.deserialize_many_sparse", SPARSE),
    ("tf.convert_to_tensor_or_sparse_tensor", SPARSE), ("tf.nn.embedding_lookup_sparse", SPARSE),
    ("tf.nn.safe_embedding_lookup_sparse", SPARSE),
    ("tf.strings", STRINGS), ("tf.string_*", STRINGS), ("tf.substr", STRINGS), ("tf.regex_replace", STRINGS),
    ("tf.reduce_join", STRINGS), ("tf.as_string", STRINGS), ("tf.encode_base64", STRINGS),
    ("tf.decode_base64", STRINGS), ("tf.decode_compressed", STRINGS), ("tf.decode_json_example", STRINGS),
    ("tf.dtypes.as_string", STRINGS), ("tf.io.decode_base64", STRINGS), ("tf.io.encode_base64", STRINGS),
    ("tf.io.decode_compressed", STRINGS), ("tf.io.decode_json_example", STRINGS),
    ("tf.lookup", LOOKUP),
    ("tf.linalg.LinearOperator*", LINOP),
    ("tf.signal", FFT), ("tf.spectral", FFT), ("tf.fft*", FFT), ("tf.ifft*", FFT), ("tf.rfft*", FFT),
    ("tf.irfft*", FFT),
    ("tf.quantization", QUANTIZED), ("tf.fake_quant*", QUANTIZED), ("tf.quantize*", QUANTIZED),
    ("tf.dequantize", QUANTIZED), ("tf.quantized_concat", QUANTIZED), ("tf.qint*", QUANTIZED),
    ("tf.quint*", QUANTIZED), ("tf.QUANTIZED_DTYPES", QUANTIZED), ("tf.dtypes.q*", QUANTIZED),
    ("tf.dtypes.QUANTIZED_DTYPES", QUANTIZED), ("tf.nn.quantized_*", QUANTIZED),
    ("tf.saved_model", DEPLOY), ("tf.lite", DEPLOY), ("tf.mlir", DEPLOY), ("tf.xla", DEPLOY), ("tf.tpu", DEPLOY),
    ("tf.profiler", DEPLOY), ("tf.train.ProfilerHook", DEPLOY),
    ("tf.sysconfig", BUILD), ("tf.version.COMPILER_VERSION", BUILD), ("tf.version.GIT_VERSION", BUILD),
    ("tf.COMPILER_VERSION", BUILD), ("tf.GIT_VERSION", BUILD), ("tf.CXX*", BUILD), ("tf.MONOLITHIC_BUILD", BUILD),
    ("tf.load_*", BUILD), ("tf.user_ops", BUILD), ("tf.test.is_built_with*", BUILD),
    ("tf.test.test_src_dir_path", BUILD), ("tf.errors.raise_exception_on_not_ok_status", BUILD),
    ("tf.autograph", TF2), ("tf.config", TF2), ("tf.experimental", TF2), ("tf.types", TF2),
    ("tf.mixed_precision", TF2), ("tf.train.experimental", TF2), ("tf.function", TF2), ("tf.GradientTape", TF2),
    ("tf.Module", TF2), ("tf.TensorSpec", TF2), ("tf.TypeSpec", TF2), ("tf.IndexedSlicesSpec", TF2),
    ("tf.NoneTensorSpec", TF2), ("tf.OptionalSpec", TF2), ("tf.TensorArraySpec", TF2), ("tf.RaggedTensorSpec", TF2),
    ("tf.type_spec_from_value", TF2), ("tf.ragged", TF2), ("tf.RaggedTensor", TF2), ("tf.ragged_*", TF2),
    ("tf.py_function", TF2), ("tf.print", TF2), ("tf.wrap_function", TF2), ("tf.vectorized_map", TF2),
    ("tf.variable_creator_scope", TF2), ("tf.train.Checkpoint", TF2), ("tf.train.CheckpointManager", TF2),
    ("tf.train.CheckpointOptions", TF2), ("tf.summary.all_v2_summary_ops", TF2), ("tf.summary.initialize", TF2),
    ("tf.random.Generator", TF2), ("tf.random.Algorithm", TF2), ("tf.random.experimental", TF2),
    ("tf.random.create_rng_state", TF2), ("tf.random.get_global_generator", TF2),
    ("tf.random.set_global_generator", TF2), ("tf.random.stateless_*", TF2), ("tf.random.fold_in", TF2),
    ("tf.random.split", TF2), ("tf.debugging.experimental", TF2), ("tf.debugging.enable_check_numerics", TF2),
    ("tf.debugging.disable_check_numerics", TF2), ("tf.debugging.get_log_device_placement", TF2),
    ("tf.debugging.set_log_device_placement", TF2), ("tf.debugging.enable_traceback_filtering", TF2),
    ("tf.debugging.disable_traceback_filtering", TF2), ("tf.debugging.is_traceback_filtering_enabled", TF2),
    ("tf.compat.forward_compatib*", TF2), ("tf.test.experimental", TF2), ("tf.test.with_eager_op_as_function", TF2),
    ("tf.test.disable_with_predicate", TF2), ("tf.dtypes.experimental", TF2), ("tf.custom_gradient", TF2),
    ("tf.recompute_grad", TF2), ("tf.grad_pass_through", TF2), ("tf.CriticalSection", TF2),
    ("tf.nondifferentiable_batch_function", TF2), ("tf.is_symbolic_tensor", TF2), ("tf.IndexedSlices", TF2),
]


@dataclass
class Coverage:
    """The result of looking every TF1 name up in caudal."""

    total: int = 0
    present: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # name -> kind
    modules: dict[str, int] = field(default_factory=dict)  # a missing module -> how many names it holds


def read_names(path: str = NAMES) -> dict[str, str]:
    names: dict[str, str] = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, kind = line.split()
            names[name] = kind
    return names


def _resolve(root: Any, name: str) -> bool:
    value = root
    for part in name.split(".")[1:]:
        try:
            value = getattr(value, part)
        except Exception:
            return False
    return True


def compute(names: dict[str, str] | None = None) -> Coverage:
    import caudal

    names = read_names() if names is None else names
    coverage = Coverage(total=len(names))
    missing_modules: list[str] = []
    for name in sorted(names):
        if any(name.startswith(module + ".") for module in missing_modules):
            module = next(m for m in missing_modules if name.startswith(m + "."))
            coverage.modules[module] += 1
            continue
        if _resolve(caudal, name):
            coverage.present.append(name)
            continue
        coverage.missing[name] = names[name]
        if names[name] == "module":
            missing_modules.append(name)
            coverage.modules[name] = 0
    return coverage


def reason(name: str) -> str:
    for rule, why in RULES:
        if rule.endswith("*"):
            if name.startswith(rule[:-1]):
                return why
        elif name == rule or name.startswith(rule + "."):
            return why
    return NOT_IMPLEMENTED


def render(coverage: Coverage) -> str:
    covered = len(coverage.present)
    missing_names = coverage.total - covered
    lines = [
        "# TF1 API coverage",
        "",
        "Which names of TensorFlow's TF1 API (`tf.compat.v1` of TF 2.21, walked recursively, plus the",
        "TF 1.15-only `tf.layers`, `tf.nn.rnn_cell`, `tf.contrib` and `tf.estimator` entries) `import caudal as",
        "tf` finds. Generated by `python tools/api_coverage.py` from `tools/tf1_api_names.txt`; do not edit.",
        "",
        f"- names: {coverage.total}",
        f"- found in caudal: {covered}",
        f"- missing: {missing_names} (below; a module caudal lacks is one row)",
        "",
        "caudal also has TF 0.12's spellings that TF 1.0 removed (`tf.mul`, `tf.sub`, `tf.neg`, `tf.pack`,",
        "`tf.unpack`, `tf.select`, `tf.concat_v2`, `tf.scalar_summary`, `tf.histogram_summary`,",
        "`tf.image_summary`, `tf.audio_summary`, `tf.merge_summary`, `tf.merge_all_summaries`,",
        "`tf.train.SummaryWriter`); each warns once, as TF's deprecated names do.",
        "",
        "| name | kind | why it is missing |",
        "|---|---|---|",
    ]
    for name, kind in coverage.missing.items():
        if kind == "module":
            label = f"`{name}` (module, {coverage.modules[name]} names)"
        else:
            label = f"`{name}`"
        lines.append(f"| {label} | {kind} | {reason(name)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stdout", action="store_true", help="print the page instead of writing it")
    args = parser.parse_args(argv)
    sys.path.insert(0, ROOT)
    page = render(compute())
    if args.stdout:
        sys.stdout.write(page)
    else:
        with open(PAGE, "w") as f:
            f.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
