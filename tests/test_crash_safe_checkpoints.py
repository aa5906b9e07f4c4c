"""Crash safety of checkpoints: saving over an existing prefix leaves the old or the new checkpoint restorable.

Injected crashes copy the directory at each step of a save (what a process
killed there leaves on the disk) and restore from the copy; real SIGKILLs
kill a saving subprocess by its PID at random moments.
"""
from __future__ import annotations

import glob
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import caudal as tf
from caudal import errors
from caudal.checkpoint import durable
from caudal.checkpoint.state import atomic_write

STEPS = ["data-written", "index-written", "sources-synced", "journal-written", "committed", "first-renamed",
         "renamed"]


def _temporaries(directory: str) -> list[str]:
    return [p for p in glob.glob(os.path.join(directory, "**", "*"), recursive=True)
            if durable.TEMP_MARK in os.path.basename(p) or p.endswith(".index.commit")]


def _join_background_removals() -> None:
    for thread in threading.enumerate():
        if thread.name == "caudal-retired-checkpoint-files":
            thread.join(30)


def _build(sharded: bool):
    graph = tf.Graph()
    with graph.as_default():
        a = tf.Variable(np.zeros([64], np.float32), name="a")
        b = tf.Variable(np.zeros([3, 5], np.int64), name="b")
        assign = [tf.assign(a, tf.fill([64], tf.cast(tf.placeholder(tf.int32, [], name="k"), tf.float32))),
                  tf.assign(b, tf.fill([3, 5], tf.cast(graph.get_tensor_by_name("k:0"), tf.int64)))]
        saver = tf.train.Saver(sharded=sharded)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=graph)
    sess.run(init)
    return graph, sess, saver, (a, b), assign


def _set(sess, assign, graph, k: int) -> None:
    sess.run(assign, {graph.get_tensor_by_name("k:0"): k})


def _restored_version(saver, variables, prefix: str, graph) -> int:
    with tf.Session(graph=graph) as sess:
        saver.restore(sess, prefix)
        a, b = sess.run(list(variables))
    assert np.all(a == a[0]) and np.all(b == int(a[0])), "a mixed checkpoint was restored"
    return int(a[0])


@pytest.mark.parametrize("sharded", [False, True], ids=["plain", "sharded"])
@pytest.mark.parametrize("step", STEPS)
def test_crash_at_each_step_leaves_old_or_new_checkpoint(tmp_path, monkeypatch, step, sharded):
    monkeypatch.setattr(durable, "RETIRE_IN_BACKGROUND_BYTES", 0)  # replaced files keep a second name, as large ones
    graph, sess, saver, variables, assign = _build(sharded)
    work = tmp_path / "work"
    work.mkdir()
    prefix = str(work / "model.ckpt")
    _set(sess, assign, graph, 1)
    saver.save(sess, prefix)
    _set(sess, assign, graph, 2)
    snapshots = []

    def crash(name: str) -> None:
        if name == step:
            target = tmp_path / f"killed{len(snapshots)}"
            shutil.copytree(work, target)
            snapshots.append(str(target))

    monkeypatch.setattr(durable, "crash_hook", crash)
    saver.save(sess, prefix)
    monkeypatch.setattr(durable, "crash_hook", None)
    assert snapshots, f"step {step} was never reached"
    versions = [_restored_version(saver, variables, os.path.join(s, "model.ckpt"), graph) for s in snapshots]
    assert set(versions) <= {1, 2}
    if not sharded:
        committed = step not in ("data-written", "index-written", "sources-synced", "journal-written")
        assert versions == [2 if committed else 1]
    # the next save of the killed directory removes what the killed save left
    killed_prefix = os.path.join(snapshots[-1], "model.ckpt")
    _set(sess, assign, graph, 3)
    saver.save(sess, killed_prefix)
    assert _restored_version(saver, variables, killed_prefix, graph) == 3
    _join_background_removals()
    assert _temporaries(snapshots[-1]) == []


def test_replaced_large_files_are_freed_in_the_background(tmp_path, monkeypatch):
    retired = []
    remove = durable._remove_in_background
    monkeypatch.setattr(durable, "_remove_in_background", lambda paths: (retired.extend(paths), remove(paths)))
    prefix = str(tmp_path / "model.ckpt")
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable(np.zeros([durable.RETIRE_IN_BACKGROUND_BYTES // 4 + 1], np.float32), name="v")
        bump = tf.assign_add(v, tf.ones_like(v))
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(v.initializer)
            saver.save(sess, prefix)
            data = prefix + ".data-00000-of-00001"
            old_inode = os.stat(data).st_ino
            sess.run(bump)
            saver.save(sess, prefix)
            assert os.stat(data).st_ino != old_inode
            assert [os.path.basename(p).split(durable.TEMP_MARK)[0] for p in retired] == [os.path.basename(data)]
            _join_background_removals()
            assert _temporaries(str(tmp_path)) == []
            sess.run(v.assign(tf.zeros_like(v)))
            saver.restore(sess, prefix)
            assert np.all(sess.run(v) == 1.0)


def test_graph_free_reader_finishes_a_committed_save(tmp_path, monkeypatch):
    prefix = str(tmp_path / "work" / "ckpt")
    os.makedirs(os.path.dirname(prefix))
    from caudal.checkpoint.bundle import BundleWriter

    with BundleWriter(prefix) as writer:
        writer.add("x", np.arange(4, dtype=np.float32))
    snapshots = []

    def crash(name: str) -> None:
        if name == "first-renamed" and not snapshots:
            shutil.copytree(tmp_path / "work", tmp_path / "killed")
            snapshots.append(1)

    monkeypatch.setattr(durable, "crash_hook", crash)
    with BundleWriter(prefix) as writer:
        writer.add("x", np.arange(4, dtype=np.float32) * 10)
    monkeypatch.setattr(durable, "crash_hook", None)
    killed = str(tmp_path / "killed" / "ckpt")
    assert os.path.exists(durable.journal_filename(killed))
    np.testing.assert_array_equal(tf.train.load_variable(killed, "x"), np.arange(4, dtype=np.float32) * 10)
    assert _temporaries(str(tmp_path / "killed")) == []


def test_read_only_directory_reads_the_committed_save_in_place(tmp_path, monkeypatch):
    from caudal.checkpoint.bundle import BundleReader, BundleWriter

    prefix = str(tmp_path / "ckpt")
    with BundleWriter(prefix) as writer:
        writer.add("x", np.ones([3], np.int32))

    def stop_after_commit(name: str) -> None:
        if name == "committed":
            raise KeyboardInterrupt

    monkeypatch.setattr(durable, "crash_hook", stop_after_commit)
    writer = BundleWriter(prefix)
    writer.add("x", np.full([3], 7, np.int32))
    with pytest.raises(KeyboardInterrupt):
        writer.finish()
    monkeypatch.setattr(durable, "crash_hook", None)
    monkeypatch.setattr(durable, "recover", lambda prefix: None)  # as if the directory were read-only
    with BundleReader(prefix) as reader:
        np.testing.assert_array_equal(reader.read("x"), [7, 7, 7])


def test_failure_before_commit_keeps_old_bundle_and_removes_temporaries(tmp_path, monkeypatch):
    from caudal.checkpoint.bundle import BundleReader, BundleWriter

    prefix = str(tmp_path / "ckpt")
    with BundleWriter(prefix) as writer:
        writer.add("x", np.ones([3], np.int32))

    def fail(name: str) -> None:
        if name == "journal-written":
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(durable, "crash_hook", fail)
    writer = BundleWriter(prefix)
    writer.add("x", np.full([3], 7, np.int32))
    with pytest.raises(errors.ResourceExhaustedError, match="ckpt.index; No space left on device"):
        writer.finish()
    monkeypatch.setattr(durable, "crash_hook", None)
    assert _temporaries(str(tmp_path)) == []
    with BundleReader(prefix) as reader:
        np.testing.assert_array_equal(reader.read("x"), [1, 1, 1])


def test_atomic_write_removes_stale_temporaries_and_types_errors(tmp_path, monkeypatch):
    path = str(tmp_path / "checkpoint")
    stale = path + durable.TEMP_MARK + "0123abcd"
    with open(stale, "wb") as f:
        f.write(b"half")
    atomic_write(path, "new")
    assert open(path).read() == "new"
    assert not os.path.exists(stale)
    with pytest.raises(errors.NotFoundError, match="missing/checkpoint; No such file or directory"):
        atomic_write(str(tmp_path / "missing" / "checkpoint"), "x")

    real_open = open

    def full_disk(file, mode="r", *args, **kwargs):
        if durable.TEMP_MARK in os.fspath(file) and "w" in mode:
            raise OSError(28, "No space left on device")
        return real_open(file, mode, *args, **kwargs)

    import builtins

    monkeypatch.setattr(builtins, "open", full_disk)
    with pytest.raises(errors.ResourceExhaustedError, match="model.meta; No space left on device"):
        atomic_write(str(tmp_path / "model.meta"), b"meta")
    monkeypatch.setattr(builtins, "open", real_open)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint"]


def test_saver_meta_file_on_full_disk_is_resource_exhausted(tmp_path, monkeypatch):
    graph, sess, saver, _, _ = _build(False)
    prefix = str(tmp_path / "model.ckpt")
    import builtins

    real_open = open

    def full_disk(file, mode="r", *args, **kwargs):
        if ".meta" in os.fspath(file) and "w" in mode:
            raise OSError(28, "No space left on device")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", full_disk)
    with pytest.raises(errors.ResourceExhaustedError, match=r"model\.ckpt\.meta; No space left on device"):
        saver.save(sess, prefix)


def test_write_graph_replaces_durably(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        tf.constant(1.0, name="c")
    stale = str(tmp_path / "g.pbtxt") + durable.TEMP_MARK + "ff"
    open(stale, "w").close()
    path = tf.train.write_graph(graph, str(tmp_path), "g.pbtxt")
    assert 'name: "c"' in open(path).read()
    assert os.listdir(tmp_path) == ["g.pbtxt"]


_SAVER_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import caudal as tf

    prefix, size, sharded = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
    k = tf.placeholder(tf.float32, [], name="k")
    a = tf.Variable(tf.zeros([size]), name="a")
    b = tf.Variable(tf.zeros([size // 2]), name="b")
    step = tf.group(tf.assign(a, tf.fill([size], k)), tf.assign(b, tf.fill([size // 2], k)))
    saver = tf.train.Saver(sharded=sharded)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        i = 1
        while True:
            sess.run(step, {k: float(i)})
            saver.save(sess, prefix)
            print(i, flush=True)
            i += 1
""")


def _kill_saving_process(tmp_path, kills: int, size: int, sharded: bool, seed: int) -> None:
    script = tmp_path / "saver_loop.py"
    script.write_text(_SAVER_SCRIPT)
    prefix = str(tmp_path / "ckpt" / "model.ckpt")
    os.makedirs(os.path.dirname(prefix))
    rng = random.Random(seed)
    graph = tf.Graph()
    with graph.as_default():
        a = tf.Variable(tf.zeros([size]), name="a")
        b = tf.Variable(tf.zeros([size // 2]), name="b")
        saver = tf.train.Saver(sharded=sharded)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(tf.__file__)))
    restored = 0
    for _ in range(kills):
        process = subprocess.Popen([sys.executable, str(script), prefix, str(size), "1" if sharded else "0"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        try:
            if not os.path.exists(prefix + ".index"):
                process.stdout.readline()  # a first checkpoint exists before the first kill
            time.sleep(rng.uniform(0.0, 1.0))
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
            process.stdout.close()
        assert tf.train.latest_checkpoint(os.path.dirname(prefix)) == prefix  # the state file is whole
        with tf.Session(graph=graph) as sess:
            saver.restore(sess, prefix)
            va, vb = sess.run([a, b])
        assert va[0] >= 1 and np.all(va == va[0]) and np.all(vb == va[0])
        restored += 1
    assert restored == kills
    with tf.Session(graph=graph) as sess:  # a save after the kills removes what they left
        sess.run(tf.variables_initializer([a, b]))
        saver.save(sess, prefix)
    assert _temporaries(str(tmp_path / "ckpt")) == []


def test_sigkill_while_saving_small_checkpoints(tmp_path):
    _kill_saving_process(tmp_path, kills=3, size=1 << 16, sharded=False, seed=0)


@pytest.mark.slow
@pytest.mark.parametrize("sharded", [False, True], ids=["plain", "sharded"])
def test_sigkill_while_saving_200mib_checkpoints(tmp_path, sharded):
    _kill_saving_process(tmp_path, kills=30, size=(200 << 20) // 4 * 2 // 3, sharded=sharded, seed=1)


def test_sharded_merge_on_a_full_disk_is_resource_exhausted_and_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    graph, sess, saver, variables, assign = _build(True)
    prefix = str(tmp_path / "model.ckpt")
    _set(sess, assign, graph, 1)
    saver.save(sess, prefix)
    _set(sess, assign, graph, 2)
    real_write = durable._write_durably

    def full_disk(path, data):
        if "model.ckpt.index.commit" in path:  # the merge's journal; the shard's bundle is written
            raise OSError(28, "No space left on device", path)
        real_write(path, data)

    monkeypatch.setattr(durable, "_write_durably", full_disk)
    with pytest.raises(errors.ResourceExhaustedError, match=r"model\.ckpt\.index\.commit\.tempstate[0-9a-f]+; "
                                                           r"No space left on device"):
        saver.save(sess, prefix)
    monkeypatch.setattr(durable, "_write_durably", real_write)
    assert _restored_version(saver, variables, prefix, graph) == 1


def test_a_save_removes_abandoned_temporaries_of_other_prefixes(tmp_path):
    import fcntl

    from caudal.checkpoint.bundle import BundleReader, BundleWriter

    old = time.time() - 3600

    def temporary(name: str, age: float = old) -> str:
        path = str(tmp_path / name)
        with open(path, "wb") as f:
            f.write(b"partial")
        os.utime(path, (age, age))
        return path

    abandoned = temporary("model.ckpt-5.data-00000-of-00001" + durable.TEMP_MARK + "ab12")
    abandoned_index = temporary("model.ckpt-5.index" + durable.TEMP_MARK + "ab12")
    being_written = temporary("model.ckpt-6.data-00000-of-00001" + durable.TEMP_MARK + "cd34")
    held = open(being_written, "rb")  # noqa: SIM115 - closed below
    fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a live saving process holds it
    fresh = temporary("model.ckpt-7.index" + durable.TEMP_MARK + "ef56", age=time.time())
    unrelated = temporary("notes" + durable.TEMP_MARK + "99.txt")
    # a save of model.ckpt-8 killed after its commit point: its temporaries are the checkpoint
    with BundleWriter(str(tmp_path / "model.ckpt-8")) as writer:
        writer.add("x", np.arange(3, dtype=np.int32))
    committed_data = temporary("model.ckpt-8.data-00000-of-00001" + durable.TEMP_MARK + "0f")
    os.replace(str(tmp_path / "model.ckpt-8.data-00000-of-00001"), committed_data)
    committed_index = temporary("model.ckpt-8.index" + durable.TEMP_MARK + "0f")
    os.replace(str(tmp_path / "model.ckpt-8.index"), committed_index)
    with open(durable.journal_filename(str(tmp_path / "model.ckpt-8")), "w") as f:
        f.write(f"{os.path.basename(committed_data)}\0model.ckpt-8.data-00000-of-00001\n"
                f"{os.path.basename(committed_index)}\0model.ckpt-8.index\n")
    try:
        with BundleWriter(str(tmp_path / "model.ckpt-9")) as writer:
            writer.add("x", np.ones([2], np.float32))
    finally:
        held.close()
    assert not os.path.exists(abandoned) and not os.path.exists(abandoned_index)
    assert os.path.exists(being_written) and os.path.exists(fresh) and os.path.exists(unrelated)
    with BundleReader(str(tmp_path / "model.ckpt-8")) as reader:
        np.testing.assert_array_equal(reader.read("x"), [0, 1, 2])
    assert not os.path.exists(durable.journal_filename(str(tmp_path / "model.ckpt-8")))
