"""TF1's aliases, thin wrappers and deprecated names: values, node names, errors and deprecation warnings
checked against TF 2.21 (tests/fixtures/long_tail/, recorded by make_long_tail_fixtures.py)."""
from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

import caudal as tf
from caudal.util import deprecation

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures", "long_tail")
_spec = importlib.util.spec_from_file_location("long_tail_scenarios",
                                               os.path.join(HERE, "fixtures", "long_tail_scenarios.py"))
scenarios = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scenarios)


def _fixture(name: str) -> object:
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


@pytest.fixture
def warnings_log(caplog: pytest.LogCaptureFixture):
    """The "tensorflow" logger's records, with every deprecation free to warn again."""
    deprecation._warned.clear()
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        yield caplog
    deprecation._warned.clear()


def _assert_close(expected: object, actual: object, path: str, tolerance: float = 1e-5) -> None:
    if isinstance(expected, dict):
        assert set(expected) == set(actual), path
        for key in expected:
            _assert_close(expected[key], actual[key], f"{path}/{key}", tolerance)
        return
    try:
        expected_array, actual_array = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    except ValueError:  # a list of arrays of different shapes
        assert len(expected) == len(actual), path
        for i, (e, a) in enumerate(zip(expected, actual)):
            _assert_close(e, a, f"{path}[{i}]", tolerance)
        return
    assert expected_array.shape == actual_array.shape, path
    np.testing.assert_allclose(actual_array, expected_array, rtol=tolerance, atol=tolerance, err_msg=path)


def test_thin_wrapper_values_match_tensorflow(warnings_log):
    expected = _fixture("values.json")
    built = scenarios.value_graph(tf)
    with tf.Session() as sess:
        actual = scenarios._json(sess.run(built))
    assert set(actual) == set(expected)
    for name in expected:
        # caudal's bfloat16 cast keeps float32's digits; TF rounds to bfloat16's 8 bits of mantissa
        _assert_close(expected[name], actual[name], name, 1e-2 if name == "to_bfloat16" else 1e-5)


def test_thin_wrapper_node_names_match_tensorflow(warnings_log):
    assert scenarios.value_names(tf) == _fixture("names.json")


def test_thin_wrapper_errors_match_tensorflow():
    expected = _fixture("errors.json")
    actual = scenarios.build_errors(tf)
    # TF's KeyError names where the first registration was made
    expected["not_differentiable_add"][1] = expected["not_differentiable_add"][1].split(" (Previous")[0] + '"'
    assert actual == expected


def test_static_helpers_match_tensorflow():
    assert scenarios.shapes(tf) == _fixture("shapes.json")


@pytest.mark.parametrize("name", sorted(_fixture("deprecations.json")))
def test_deprecated_names_warn_once_with_tensorflows_text(name, warnings_log):
    date, instructions = _fixture("deprecations.json")[name]
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    calls = {
        "all_variables": lambda: tf.all_variables(),
        "initialize_all_variables": lambda: tf.initialize_all_variables(),
        "initialize_local_variables": lambda: tf.initialize_local_variables(),
        "initialize_variables": lambda: tf.initialize_variables([]),
        "initialize_all_tables": lambda: tf.initialize_all_tables(),
        "multinomial": lambda: tf.multinomial(x, 2),
        "clip_by_average_norm": lambda: tf.clip_by_average_norm(x, 1.0),
        "arg_max": lambda: tf.arg_max(x, 0),
        "arg_min": lambda: tf.arg_min(x, 0),
        "batch_gather": lambda: tf.batch_gather(x, [[0], [1]]),
        "colocate_with": lambda: tf.colocate_with(x).__enter__(),
        "div": lambda: tf.div(x, x),
    }
    call = calls.get(name, lambda: getattr(tf, name)(x))
    call()
    call()
    messages = [r.getMessage() for r in warnings_log.records if r.name == "tensorflow"]
    assert len(messages) == 1, messages
    removal = "in a future version" if date is None else f"after {date}"
    assert f": {name} (from caudal." in messages[0]
    assert messages[0].endswith(f"is deprecated and will be removed {removal}.\nInstructions for updating:\n"
                                f"{instructions}")
    assert messages[0].startswith(f"From {__file__}:")


OLD_SPELLINGS = {
    "mul": ("2016-12-30", lambda x: tf.mul(x, x), lambda x: x * x),
    "sub": ("2016-12-30", lambda x: tf.sub(x, 1.0), lambda x: x - 1.0),
    "neg": ("2016-12-30", lambda x: tf.neg(x), lambda x: -x),
    "pack": ("2016-12-14", lambda x: tf.pack([x, x], axis=1), lambda x: tf.stack([x, x], axis=1)),
    "unpack": ("2016-12-14", lambda x: tf.unpack(x)[1], lambda x: tf.unstack(x)[1]),
    "select": (None, lambda x: tf.select(x > 2.0, x, -x), lambda x: tf.where(x > 2.0, x, -x)),
    "concat_v2": (None, lambda x: tf.concat_v2([x, x], 1), lambda x: tf.concat([x, x], 1)),
}


@pytest.mark.parametrize("name", sorted(OLD_SPELLINGS))
def test_pre_1_0_spellings_compute_what_their_successors_do_and_warn(name, warnings_log):
    date, old, new = OLD_SPELLINGS[name]
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(old(x)), sess.run(new(x)))
    old(x)
    messages = [r.getMessage() for r in warnings_log.records]
    assert len(messages) == 1
    removal = "in a future version" if date is None else f"after {date}"
    assert f": {name} (from caudal." in messages[0] and f"will be removed {removal}." in messages[0]


def test_pre_1_0_names_keep_tensorflows_node_names(warnings_log):
    x = tf.constant([1.0, 2.0])
    assert tf.pack([x, x]).name == "pack:0"
    assert tf.unpack(tf.pack([x, x]))[0].name == "unpack:0"
    assert tf.concat_v2([x, x], 0).name == "concat_v2:0"
    assert tf.select(x > 1.0, x, x).op.type == "Select"


def test_pre_1_0_summaries_use_the_tag_as_given(warnings_log):
    from caudal.proto import summary_pb2

    with tf.name_scope("scope"):
        scalar = tf.scalar_summary(["loss", "accuracy"], tf.constant([0.5, 0.25]))
        histogram = tf.histogram_summary("weights", tf.constant([1.0, 2.0, 2.0]))
        image = tf.image_summary("pictures", tf.zeros([2, 4, 4, 1]), max_images=1)
        audio = tf.audio_summary("sound", tf.zeros([1, 8]), 8000.0)
    assert (scalar.name, histogram.name, image.name, audio.name) == (
        "scope/ScalarSummary:0", "scope/HistogramSummary:0", "scope/ImageSummary:0", "scope/AudioSummary:0")
    merged = tf.merge_all_summaries()
    assert merged.op.type == "MergeSummary" and tf.merge_summary([scalar]).op.type == "MergeSummary"
    with tf.Session() as sess:
        summary = summary_pb2.Summary.FromString(sess.run(merged))
    tags = [v.tag for v in summary.value]
    assert tags == ["loss", "accuracy", "weights", "pictures/image", "sound/audio/0"]
    assert [v.simple_value for v in summary.value[:2]] == [0.5, 0.25]
    assert tf.merge_all_summaries(key="nothing_here") is None
    messages = "\n".join(r.getMessage() for r in warnings_log.records)
    for name in ("scalar_summary", "histogram_summary", "image_summary", "audio_summary", "merge_all_summaries",
                 "merge_summary"):
        assert f"{name} (from caudal.deprecated) is deprecated and will be removed after 2016-11-30." in messages


def test_train_summary_writer_is_a_file_writer_that_warns(tmp_path, warnings_log):
    writer = tf.train.SummaryWriter(str(tmp_path), graph=tf.get_default_graph())
    writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="t", simple_value=1.0)]), 1)
    writer.close()
    assert isinstance(writer, tf.summary.FileWriter)
    assert [p.name for p in tmp_path.iterdir()][0].startswith("events.out.tfevents.")
    assert "SummaryWriter.__init__ (from caudal.train.summary_io) is deprecated and will be removed after " \
           "2016-11-30." in warnings_log.records[0].getMessage()


def test_the_aliases_the_issue_names_exist():
    for name in ["arg_min", "arg_max", "to_float", "to_double", "to_int32", "to_int64", "to_bfloat16", "div", "mul",
                 "sub", "neg", "select", "concat_v2", "pack", "unpack", "initialize_all_variables",
                 "initialize_local_variables", "all_variables", "merge_all_summaries", "merge_summary",
                 "scalar_summary", "histogram_summary", "image_summary", "audio_summary", "logging", "app", "flags",
                 "gfile", "get_logger", "tables_initializer", "get_static_value", "is_tensor", "norm", "scalar_mul",
                 "log_sigmoid", "accumulate_n", "random", "dtypes", "debugging", "manip", "nest", "version", "VERSION",
                 "OpError", "LogMessage", "get_seed", "assert_less", "assert_type", "scatter_add", "confusion_matrix",
                 "serialize_tensor", "parse_tensor", "is_numeric_tensor", "is_non_decreasing"]:
        assert hasattr(tf, name), name
    assert tf.train.SummaryWriter and tf.io.gfile.exists and tf.initializers.tables_initializer
    assert tf.compat.v1.to_float is tf.to_float


def test_namespaces_reexport_what_caudal_has():
    assert tf.random.normal is tf.random_normal and tf.random.uniform is tf.random_uniform
    assert tf.random.shuffle is tf.random_shuffle and tf.random.set_random_seed is tf.set_random_seed
    assert tf.random.uniform_candidate_sampler is tf.nn.uniform_candidate_sampler
    assert tf.dtypes.float32 is tf.float32 and tf.dtypes.cast is tf.cast and tf.dtypes.as_dtype is tf.as_dtype
    assert tf.debugging.check_numerics is tf.check_numerics and tf.debugging.Assert is tf.Assert
    assert tf.manip.tile is tf.tile and tf.manip.gather_nd is tf.gather_nd
    assert tf.nest.flatten({"a": (1, [2, 3])}) == [1, 2, 3] and tf.nest.is_nested([1])
    assert tf.version.VERSION == tf.__version__ == tf.VERSION
    assert tf.math.scalar_mul is tf.scalar_mul and tf.linalg.norm is tf.norm
    assert tf.linalg.global_norm is tf.global_norm and tf.linalg.l2_normalize is tf.nn.l2_normalize
    assert tf.nn.zero_fraction is tf.math.zero_fraction
    assert tf.OpError is tf.errors.OpError and tf.get_logger() is logging.getLogger("tensorflow")
    assert tf.LogMessage().level == 0
    assert tf.compat.as_str_any(b"x") == "x" and tf.compat.as_str_any(3) == "3"
    assert isinstance(np.int64(1), tf.compat.integral_types) and isinstance(2.5, tf.compat.real_types)
    assert tf.compat.path_to_str(__import__("pathlib").Path("/a")) == "/a"
    assert str(tf.compat.dimension_at_index([None, 3], 1)) == "3"


def test_random_categorical_draws_class_indices():
    logits = tf.constant([[-100.0, 0.0, -100.0], [0.0, -100.0, -100.0]])
    samples = tf.random.categorical(logits, 5, dtype=tf.int32, seed=3)
    assert samples.dtype == tf.int32 and samples.shape.as_list() == [2, 5]
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(samples), [[1] * 5, [0] * 5])


def test_framework_helpers():
    x = tf.placeholder(tf.float32, [None, 3])
    v = tf.Variable(1.0)
    assert tf.is_tensor(x) and tf.is_tensor(v) and not tf.is_tensor(1.0) and not tf.is_tensor(x.op)
    np.testing.assert_array_equal(tf.get_static_value(tf.constant([1, 2])), [1, 2])
    assert tf.get_static_value(x) is None
    assert tf.convert_to_tensor_or_indexed_slices(x) is x
    assert tf.convert_to_tensor_or_indexed_slices([1, 2]).dtype == tf.int32
    assert not tf.executing_eagerly_outside_functions() and not tf.control_flow_v2_enabled()
    assert not tf.resource_variables_enabled()
    for disable in (tf.disable_control_flow_v2, tf.disable_resource_variables, tf.disable_tensor_equality,
                    tf.disable_v2_tensorshape):
        assert disable() is None
    for enable in (tf.enable_v2_behavior, tf.enable_control_flow_v2, tf.enable_resource_variables,
                   tf.enable_tensor_equality, tf.enable_v2_tensorshape):
        with pytest.raises(NotImplementedError, match="caudal implements TF1 graph mode only"):
            enable()


def test_init_scope_leaves_control_dependencies_and_keeps_the_name_scope():
    a = tf.constant(1.0, name="a")
    b = tf.constant(3.0, name="b")
    with tf.name_scope("outer"), tf.control_dependencies([b]):
        inside = tf.identity(a)
        with tf.init_scope():
            lifted = tf.constant(2.0, name="lifted")
    assert inside.op.control_inputs == [b.op]
    assert lifted.op.control_inputs == [] and lifted.name == "outer/lifted:0"


def test_colocate_with_accepts_ops_tensors_and_variables(warnings_log):
    x = tf.constant(1.0)
    with tf.colocate_with(x.op), tf.colocate_with(tf.Variable(2.0)), tf.colocate_with(x, ignore_existing=True):
        y = x + 1.0
    with tf.Session() as sess:
        assert sess.run(y) == 2.0
    with pytest.raises(TypeError, match="'op' must be an Operation, a Tensor or a Variable, got int"):
        with tf.colocate_with(3):
            pass
    assert len(warnings_log.records) == 1


def test_not_differentiable_declares_an_op_type_for_gradient_override_maps():
    from caudal.framework import registry

    tf.NotDifferentiable("CaudalTestNoGradOp")
    try:
        assert registry._GRADIENT_OVERRIDES["CaudalTestNoGradOp"] is registry.NOT_DIFFERENTIABLE
        with pytest.raises(KeyError, match="Registering two gradient with name 'CaudalTestNoGradOp'!"):
            tf.no_gradient("CaudalTestNoGradOp")
        with pytest.raises(TypeError, match="op_type must be a string"):
            tf.NoGradient(3)
        x = tf.constant([1.0, 2.0])
        with tf.get_default_graph().gradient_override_map({"Square": "CaudalTestNoGradOp"}):
            y = tf.square(x)
        assert tf.gradients(tf.reduce_sum(y), x) == [None]
    finally:
        del registry._GRADIENT_OVERRIDES["CaudalTestNoGradOp"]


def test_tables_initializer_is_a_noop_without_tables():
    init = tf.tables_initializer()
    assert (init.name, init.type) == ("init_all_tables", "NoOp")
    with tf.Session() as sess:
        assert sess.run(init) is None


def test_the_parts_caudal_cannot_do_say_so():
    x = tf.ones([2, 3])
    with pytest.raises(NotImplementedError, match="matrix 2-norm needs singular values"):
        tf.norm(x, ord=2, axis=[0, 1])
    with pytest.raises(NotImplementedError, match="no 3-D convolutions"):
        tf.nn.convolution(tf.ones([1, 4, 4, 4, 1]), tf.ones([2, 2, 2, 1, 1]), "SAME")
    with pytest.raises(NotImplementedError, match="no 3-D ops"):
        tf.nn.max_pool_v2(tf.ones([1, 4, 4, 4, 1]), 2, 2, "SAME")
    with pytest.raises(ValueError, match="Cannot specify both 'keep_dims' and 'keepdims'"):
        tf.norm(x, keepdims=True, keep_dims=True)
    with pytest.raises(TypeError, match="The `tensor_dtype` argument is <dtype: 'int32'>"):
        tf.math.accumulate_n([x], tensor_dtype=tf.int32)


def test_verify_tensor_all_finite_fails_on_nan():
    checked = tf.verify_tensor_all_finite(tf.constant([1.0, np.nan]), "found a NaN")
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="found a NaN"):
        sess.run(checked)


def test_import_caudal_loads_none_of_these_modules():
    code = ("import sys, caudal; names = ['logging', 'argparse', 'caudal.logging', 'caudal.flags', 'caudal.app', "
            "'caudal.gfile', 'caudal.deprecated', 'caudal.framework_extras', 'caudal.ops.math_composites', "
            "'caudal.ops.nn_composites', 'caudal.random', 'threadpoolctl']; "
            "print([n for n in names if n in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=os.path.dirname(HERE), check=True)
    assert done.stdout.strip() == "[]"


def test_tf_queue_names_the_queue_classes() -> None:
    import caudal as tf_

    for name in ("FIFOQueue", "PaddingFIFOQueue", "PriorityQueue", "QueueBase", "RandomShuffleQueue"):
        assert getattr(tf_.queue, name) is getattr(tf_, name)
    with tf_.Graph().as_default():
        queue = tf_.queue.FIFOQueue(2, tf_.int32, shapes=[[]])
        with tf_.Session() as sess:
            sess.run(queue.enqueue([7]))
            assert sess.run(queue.dequeue()) == 7
