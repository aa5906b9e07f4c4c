"""RegexFullMatch, StaticRegexFullMatch, StaticRegexReplace, RegexReplace against TF 2.21's results
(tests/fixtures/regex/regex_cases.json, made by tests/fixtures/make_regex_fixtures.py), and their linear time."""
from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

import caudal as tf
from caudal import errors

_CASES = json.load(open(os.path.join(os.path.dirname(__file__), "fixtures", "regex", "regex_cases.json"),
                        encoding="utf-8"))
_INPUTS = _CASES["inputs"]


def _run(build):
    with tf.Graph().as_default(), tf.Session() as sess:
        value = sess.run(build())
    return [v.decode("utf-8") if isinstance(v, bytes) else bool(v) for v in value.tolist()]


@pytest.mark.parametrize("case", _CASES["full_match"], ids=lambda c: repr(c["pattern"]))
def test_full_match_as_tensorflow(case):
    assert _run(lambda: tf.strings.regex_full_match(_INPUTS, case["pattern"])) == case["static"]["value"]
    assert _run(lambda: tf.strings.regex_full_match(_INPUTS, tf.constant(case["pattern"]))) == \
        case["dynamic"]["value"]


@pytest.mark.parametrize("case", _CASES["replace"],
                         ids=lambda c: f"{c['pattern']!r}->{c['rewrite']!r}-{c['replace_global']}")
def test_replace_as_tensorflow(case):
    pattern, rewrite, replace_global = case["pattern"], case["rewrite"], case["replace_global"]
    assert _run(lambda: tf.strings.regex_replace(_INPUTS, pattern, rewrite, replace_global)) == \
        case["static"]["value"]
    assert _run(lambda: tf.strings.regex_replace(_INPUTS, tf.constant(pattern), tf.constant(rewrite),
                                                 replace_global)) == case["dynamic"]["value"]


@pytest.mark.parametrize("case", _CASES["bad_patterns"], ids=lambda c: repr(c["pattern"]))
def test_bad_patterns_raise_tensorflows_message(case):
    assert case["full_match"]["error"] == case["replace_dynamic"]["error"] == "InvalidArgumentError"
    with pytest.raises(errors.InvalidArgumentError) as raised:
        _run(lambda: tf.strings.regex_full_match(["a"], tf.constant(case["pattern"])))
    assert str(raised.value).startswith(case["full_match"]["message"] + "\n")
    with pytest.raises(errors.InvalidArgumentError) as raised:
        _run(lambda: tf.strings.regex_replace(["a"], tf.constant(case["pattern"]), "b"))
    assert str(raised.value).startswith(case["replace_dynamic"]["message"] + "\n")
    with tf.Graph().as_default():  # a static pattern is checked when the node is built
        with pytest.raises(ValueError) as raised:
            tf.strings.regex_replace(["a"], case["pattern"], "b")
        assert case["replace"]["message"] in str(raised.value)


def test_rewrite_naming_a_missing_group_leaves_strings_unchanged():
    case = _CASES["bad_rewrites"][0]
    assert _run(lambda: tf.strings.regex_replace(["a"], case["pattern"], case["rewrite"])) == \
        case["static"]["value"]


def test_pathological_patterns_run_in_linear_time():
    text = "a" * 50000 + "b"
    start = time.perf_counter()
    assert _run(lambda: tf.strings.regex_full_match([text], tf.constant("(a+)+$"))) == [False]
    assert _run(lambda: tf.strings.regex_replace([text], "(a|aa)+$", "X")) == [text]
    assert time.perf_counter() - start < 5


def test_shapes_and_op_types():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.string, [2, None])
        assert tf.strings.regex_replace(x, "a", "b").op.type == "StaticRegexReplace"
        dynamic = tf.strings.regex_replace(x, tf.constant("a"), "b")
        assert dynamic.op.type == "RegexReplace"
        assert dynamic.shape.as_list() == [2, None]
        assert tf.strings.regex_full_match(x, tf.constant("a")).op.type == "RegexFullMatch"
        assert tf.strings.regex_full_match(x, "a").op.type == "StaticRegexFullMatch"
        with pytest.raises(ValueError, match="Tensor conversion requested dtype string for Tensor with dtype int32"):
            tf.strings.regex_replace(tf.constant([1]), tf.constant("a"), "b")
        with tf.Session() as sess:
            out = sess.run(dynamic, {x: np.array([["ab", "a"], ["", "ca"]], dtype=object)})
        assert out.tolist() == [[b"bb", b"b"], [b"", b"cb"]]


def test_graph_def_round_trip():
    with tf.Graph().as_default() as graph:
        x = tf.constant(["abc", "aXa"])
        tf.strings.regex_replace(x, "a", "-", replace_global=False, name="static")
        tf.strings.regex_replace(x, tf.constant("a"), tf.constant("+"), name="dynamic")
        tf.strings.regex_full_match(x, tf.constant("a.*"), name="match")
        graph_def = graph.as_graph_def()
    with tf.Graph().as_default() as imported, tf.Session() as sess:
        tf.import_graph_def(graph_def, name="")
        static, dynamic, match = sess.run(["static:0", "dynamic:0", "match:0"])
        assert imported.get_operation_by_name("static").get_attr("replace_global") is False
    assert static.tolist() == [b"-bc", b"-Xa"]
    assert dynamic.tolist() == [b"+bc", b"+X+"]
    assert match.tolist() == [True, True]
