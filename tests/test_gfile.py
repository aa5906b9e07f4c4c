"""tf.gfile / tf.io.gfile: files, directories and TF's errors, checked against TF 2.21
(tests/fixtures/long_tail/gfile.json, recorded from the same scenario by make_long_tail_fixtures.py)."""
from __future__ import annotations

import importlib.util
import json
import logging
import os
import pathlib

import pytest

import caudal as tf
from caudal.util import deprecation

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("long_tail_scenarios",
                                               os.path.join(HERE, "fixtures", "long_tail_scenarios.py"))
scenarios = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scenarios)

with open(os.path.join(HERE, "fixtures", "long_tail", "gfile.json")) as _f:
    EXPECTED = json.load(_f)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return scenarios._json(scenarios.gfile_cases(tf.gfile, str(tmp_path_factory.mktemp("gfile"))))


@pytest.mark.parametrize("index", range(len(EXPECTED)), ids=[case[0] for case in EXPECTED])
def test_gfile_matches_tensorflow(results, index):
    assert results[index] == EXPECTED[index]


def test_io_gfile_has_tensorflow_2_names(tmp_path):
    g = tf.io.gfile
    path = tmp_path / "a" / "b.txt"
    g.makedirs(str(path.parent))
    with g.GFile(str(path), "wb") as f:
        f.write(b"data")
    assert g.exists(str(path)) and g.isdir(str(path.parent)) and g.listdir(str(path.parent)) == ["b.txt"]
    assert g.stat(str(path)).length == 4 and g.glob(str(tmp_path / "a" / "*")) == [str(path)]
    g.copy(str(path), str(tmp_path / "c.txt"))
    g.rename(str(tmp_path / "c.txt"), str(tmp_path / "d.txt"), overwrite=True)
    g.remove(str(tmp_path / "d.txt"))
    assert [entry[0] for entry in g.walk(str(tmp_path), topdown=False)] == [str(path.parent), str(tmp_path)]
    g.mkdir(str(tmp_path / "e"))
    g.rmtree(str(tmp_path / "a"))
    assert sorted(os.listdir(tmp_path)) == ["e"]
    assert g.join("gs://bucket", "x", "y") == "gs://bucket/x/y" and g.get_registered_schemes() == ["", "file"]


def test_paths_may_be_path_like_or_bytes(tmp_path):
    path = tmp_path / "p.txt"
    with tf.gfile.GFile(path, "w") as f:
        f.write("x")
    assert tf.gfile.Exists(pathlib.Path(path)) and tf.gfile.Exists(str(path).encode())
    assert tf.gfile.GFile(path).name == str(path) and tf.gfile.GFile(str(path)).mode == "r"
    assert not tf.gfile.Exists("")


@pytest.mark.parametrize("path", ["gs://bucket/file", "s3://bucket/file", "hdfs://namenode/file"])
def test_remote_file_systems_are_unimplemented(path):
    scheme = path.split(":")[0]
    message = f"File system scheme '{scheme}' not implemented \\(file: '{path}'\\)"
    with pytest.raises(tf.errors.UnimplementedError, match=message):
        tf.gfile.Exists(path)
    with pytest.raises(tf.errors.UnimplementedError, match=message):
        tf.gfile.GFile(path, "w")


def test_mixed_read_write_modes_follow_python(tmp_path):
    path = str(tmp_path / "rw.txt")
    with tf.gfile.GFile(path, "w+") as f:
        f.write("hello")
        f.seek(0)
        assert f.read() == "hello"
    with tf.gfile.GFile(path, "a+") as f:
        assert f.read() == "hello"
        f.write("!")
    assert open(path).read() == "hello!"
    with tf.gfile.GFile(path, "rb") as f:
        assert f.seekable() and not f.isatty() and f.read() == b"hello!"
    with pytest.raises(TypeError, match="offset and position may not be set simultaneously"):
        tf.gfile.GFile(path).seek(1, position=2)
    with tf.gfile.GFile(path) as f:
        f.seek(position=1)
        assert f.read(2) == "el"


def test_fast_gfile_warns_once(tmp_path, caplog):
    path = tmp_path / "f.txt"
    path.write_text("abc")
    deprecation._warned.clear()
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        assert tf.gfile.FastGFile(str(path)).read() == "abc"
        tf.gfile.FastGFile(str(path))
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage().endswith(
        "FastGFile.__init__ (from caudal.gfile) is deprecated and will be removed in a future version.\n"
        "Instructions for updating:\nUse tf.gfile.GFile.")
