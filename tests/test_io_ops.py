"""tf.read_file, tf.write_file and tf.matching_files: TF 2.21's results, shapes and errors."""
from __future__ import annotations

import os

import numpy as np
import pytest

import caudal as tf
from caudal.framework.constant_value import constant_value


def test_write_creates_parent_directories_and_read_gives_the_bytes(tmp_path) -> None:
    path = str(tmp_path / "a" / "b" / "c.bin")
    data = bytes(range(256)) + b"\x00"
    with tf.Graph().as_default(), tf.Session() as sess:
        write = tf.write_file(path, data)
        assert isinstance(write, tf.Operation) and write.type == "WriteFile" and write.outputs == ()
        assert [t.op.name for t in write.inputs] == ["WriteFile/filename", "WriteFile/contents"]
        sess.run(write)
        contents = tf.read_file(path)
        assert contents.dtype == tf.string and contents.shape.as_list() == []
        assert sess.run(contents) == data
        sess.run(tf.write_file(path, "replaced"))
        assert sess.run(contents) == b"replaced"


def test_every_run_reads_the_file_as_it_is_then(tmp_path) -> None:
    """The ops are never folded into constants: a plan run twice sees a changed file."""
    path = tmp_path / "changing.txt"
    path.write_bytes(b"first")
    with tf.Graph().as_default(), tf.Session() as sess:
        contents = tf.read_file(str(path))
        matches = tf.matching_files(str(tmp_path / "*.txt"))
        assert constant_value(contents) is None
        assert sess.run(contents) == b"first"
        assert list(sess.run(matches)) == [str(path).encode()]
        path.write_bytes(b"second")
        (tmp_path / "other.txt").write_bytes(b"")
        assert sess.run(contents) == b"second"
        assert list(sess.run(matches)) == sorted([str(path).encode(), str(tmp_path / "other.txt").encode()])


def test_read_errors(tmp_path) -> None:
    missing = str(tmp_path / "nope.txt")
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(tf.errors.NotFoundError, match=f"^{missing}; No such file or directory"):
            sess.run(tf.read_file(missing))
        with pytest.raises(tf.errors.FailedPreconditionError, match=f"^{tmp_path}; Is a directory"):
            sess.run(tf.read_file(str(tmp_path)))
        name, contents = tf.placeholder(tf.string), tf.placeholder(tf.string)
        scalar = r"Input filename tensor must be scalar, but had shape: \[1\]"
        with pytest.raises(tf.errors.InvalidArgumentError, match=scalar):
            sess.run(tf.read_file(name), {name: [missing]})
        with pytest.raises(tf.errors.InvalidArgumentError, match=scalar):
            sess.run(tf.write_file(name, contents), {name: [missing], contents: "x"})
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Contents tensor must be scalar, but had shape: \[1\]"):
            sess.run(tf.write_file(name, contents), {name: missing, contents: ["x"]})
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Input patterns tensor must be scalar or vector, but had shape: \[1,1\]"):
            sess.run(tf.matching_files(name), {name: [[missing]]})


def test_write_errors(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match=f"^{blocker}/child.txt; Not a directory"):
            sess.run(tf.write_file(str(blocker / "child.txt"), "x"))
        with pytest.raises(tf.errors.FailedPreconditionError, match=f"^{blocker} is not a directory"):
            sess.run(tf.write_file(str(blocker / "deeper" / "child.txt"), "x"))
        with pytest.raises(tf.errors.FailedPreconditionError, match=f"^{tmp_path}; Is a directory"):
            sess.run(tf.write_file(str(tmp_path), "x"))


def test_shape_and_dtype_errors() -> None:
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Shape must be rank 0 but is rank 1"):
            tf.read_file(["a", "b"])
        with pytest.raises(ValueError, match="Shape must be rank 0 but is rank 1"):
            tf.write_file(["a"], "x")
        with pytest.raises(ValueError, match="Shape must be at most rank 1 but is rank 2"):
            tf.matching_files([["a"]])
        with pytest.raises((TypeError, ValueError)):
            tf.read_file(3)


@pytest.fixture
def tree(tmp_path):
    for name in (".hidden.txt", "a.txt", "b.TXT", "C.txt", "sub/c.txt", "sub/d e.txt"):
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"")
    return tmp_path


@pytest.mark.parametrize("patterns, expected", [
    ("*.txt", [".hidden.txt", "C.txt", "a.txt"]),
    ("*", [".hidden.txt", "C.txt", "a.txt", "b.TXT", "sub"]),
    ("*/*.txt", ["sub/c.txt", "sub/d e.txt"]),
    ("[!a]*", [".hidden.txt", "C.txt", "b.TXT", "sub"]),
    ("?.txt", ["C.txt", "a.txt"]),
    ("s*/c.txt", ["sub/c.txt"]),
    ("sub", ["sub"]),
    ("\\a.txt", ["a.txt"]),
    ("*.zip", []),
    ("missing/*", []),
    (["b*", "a*", "a*"], ["a.txt", "a.txt", "b.TXT"]),
])
def test_matching_files(tree, patterns, expected: list[str]) -> None:
    """TF's glob: `*` also matches a leading dot, matches are sorted bytewise, duplicates kept."""
    full = [str(tree / p) for p in patterns] if isinstance(patterns, list) else str(tree / patterns)
    with tf.Graph().as_default(), tf.Session() as sess:
        matches = tf.matching_files(full)
        assert matches.dtype == tf.string and matches.shape.as_list() == [None]
        value = sess.run(matches)
    assert value.dtype == object and value.shape == (len(expected),)
    assert list(value) == [str(tree / e).encode() for e in expected]


def test_matching_relative_patterns(tree, monkeypatch) -> None:
    monkeypatch.chdir(tree)
    with tf.Graph().as_default(), tf.Session() as sess:
        assert list(sess.run(tf.matching_files("*.txt"))) == [b".hidden.txt", b"C.txt", b"a.txt"]
        assert list(sess.run(tf.matching_files("./sub/*"))) == [b"./sub/c.txt", b"./sub/d e.txt"]
        assert list(sess.run(tf.matching_files(np.array(["sub/c.txt"], dtype=object)))) == [b"sub/c.txt"]
    assert os.getcwd() == str(tree)
