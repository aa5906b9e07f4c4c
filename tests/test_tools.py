"""The command-line tools: caudal.tools.inspect_checkpoint and caudal.tools.show_graph."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import caudal as tf
from caudal.tools import inspect_checkpoint, show_graph

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
MODEL = os.path.join(FIXTURES, "checkpoints", "mlp", "model-3")


def test_inspect_checkpoint_lists_tensors_like_tf(capsys: pytest.CaptureFixture) -> None:
    assert inspect_checkpoint.main([MODEL]) == 0
    out = capsys.readouterr().out
    assert out.startswith("beta1_power (DT_FLOAT) []\nbeta2_power (DT_FLOAT) []\ndense/bias (DT_FLOAT) [3]\n")
    assert "global_step (DT_INT64) []\n" in out
    assert out.endswith("\n\n# Total number of params: 462\n")  # 3 x (150 + 3) + 2 powers + global step


def test_inspect_checkpoint_one_tensor_all_names_and_values(capsys: pytest.CaptureFixture) -> None:
    inspect_checkpoint.main(["--file_name", MODEL, "--tensor_name", "global_step"])
    assert capsys.readouterr().out == "tensor: global_step (int64) []\n3\n# Total number of params: 462\n"
    inspect_checkpoint.main([MODEL, "--all_tensor_names"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["tensor: beta1_power (float32) []", "tensor: beta2_power (float32) []"]
    assert "tensor: dense/kernel/Adam_1 (float32) [50, 3]" in lines and len(lines) == 10
    inspect_checkpoint.main([MODEL, "--all_tensors"])
    out = capsys.readouterr().out
    assert "tensor: global_step (int64) []\n3\n" in out
    inspect_checkpoint.main([MODEL, "--tensor_name", "nope"])
    assert capsys.readouterr().out == "Tensor nope not found in checkpoint\n"


def test_inspect_checkpoint_errors(capsys: pytest.CaptureFixture, tmp_path: object) -> None:
    inspect_checkpoint.main([os.path.join(str(tmp_path), "missing")])
    assert "Failed to find any matching files for" in capsys.readouterr().out
    assert inspect_checkpoint.main([]) == 1
    assert "Usage" in capsys.readouterr().err


def test_inspect_checkpoint_runs_as_a_module() -> None:
    result = subprocess.run([sys.executable, "-m", "caudal.tools.inspect_checkpoint", MODEL,
                             "--tensor_name", "dense/bias"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("tensor: dense/bias (float32) [3]\n[")


def test_show_graph_of_a_frozen_tf_graph(capsys: pytest.CaptureFixture) -> None:
    assert show_graph.main([os.path.join(FIXTURES, "frozen_mlp.pb")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:4] == ["Found 1 possible inputs:", "  (name=input, type=float32, shape=[?,4])",
                       "Found 1 possible outputs:", "  (name=output, op=Softmax)"]
    assert out[4] == "Found 15 nodes, 7 op types:" and out[5] == "  Const: 4"


def test_show_graph_of_a_text_graph_with_control_edges(capsys: pytest.CaptureFixture, tmp_path: object) -> None:
    x = tf.placeholder(tf.int32, None, name="x")
    y = tf.identity(x * 2, name="y")
    with tf.control_dependencies([y]):
        tf.no_op(name="done")
    tf.train.write_graph(tf.get_default_graph(), str(tmp_path), "g.pbtxt", as_text=True)
    show_graph.main([os.path.join(str(tmp_path), "g.pbtxt")])
    out = capsys.readouterr().out
    assert "(name=x, type=int32, shape=unknown)" in out
    assert "Found 1 possible outputs:\n  (name=done, op=NoOp)" in out


def test_show_graph_rejects_other_files(capsys: pytest.CaptureFixture, tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "junk.pb")
    with open(path, "wb") as f:
        f.write(b"\xff\xfe not a graph")
    assert show_graph.main([path]) == 1
    assert "is not a GraphDef" in capsys.readouterr().err
