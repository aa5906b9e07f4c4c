"""The thread policy: kernels below IDLE_PARALLEL_FLOPS run on one thread, those at or above PARALLEL_FLOPS on
the cap, and those between on the cap only while other processes leave the cores idle."""
from __future__ import annotations

import types

import pytest

from caudal.framework import threads


class _Clock:
    def __init__(self) -> None:
        self.wall = 100.0
        self.cpu = 10.0

    def monotonic(self) -> float:
        return self.wall

    def process_time(self) -> float:
        return self.cpu


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(threads, "time", types.SimpleNamespace(monotonic=fake.monotonic,
                                                               process_time=fake.process_time))
    monkeypatch.setattr(threads, "_load_sample", None)
    monkeypatch.setattr(threads, "_others_idle", False)
    monkeypatch.setattr(threads, "_next_sample", 0.0)
    return fake


def test_the_middle_band_follows_the_machines_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "cap", lambda: 4)
    monkeypatch.setattr(threads, "_serving", False)
    middle = (threads.IDLE_PARALLEL_FLOPS + threads.PARALLEL_FLOPS) / 2
    for idle in (True, False):
        monkeypatch.setattr(threads, "others_idle", lambda idle=idle: idle)
        assert threads.threads_for(threads.IDLE_PARALLEL_FLOPS - 1) == 1
        assert threads.threads_for(threads.PARALLEL_FLOPS) == 4
        assert threads.threads_for(middle) == (4 if idle else 1)
    threads.serving_tasks()  # a process serving a cluster task: the middle band on one thread
    assert (threads.threads_for(middle), threads.threads_for(threads.PARALLEL_FLOPS)) == (1, 4)


def test_a_server_marks_its_process_as_serving_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("grpc")
    import caudal as tf

    monkeypatch.setattr(threads, "_serving", False)
    server = tf.train.Server.create_local_server()
    try:
        assert threads._serving
    finally:
        server.stop()


def test_other_processes_cpu_time_is_the_machines_less_this_processs(monkeypatch: pytest.MonkeyPatch,
                                                                      clock: _Clock) -> None:
    busy = iter([50.0, 50.4, 50.45, 50.85])
    monkeypatch.setattr(threads, "_read_busy_seconds", lambda: next(busy))
    assert threads.others_idle() is False  # no window has passed yet
    clock.wall += 0.1
    assert threads.others_idle() is False  # within the window: the last answer, nothing read
    clock.wall += threads.LOAD_WINDOW_S
    clock.cpu += 0.3  # this process ran 0.3 of the machine's 0.4 busy seconds in 0.3 s: others 0.33 cores
    assert threads.others_idle() is True
    clock.wall += threads.LOAD_WINDOW_S
    clock.cpu += 0.05  # all of the 0.05 busy seconds were this process's
    assert threads.others_idle() is True
    clock.wall += threads.LOAD_WINDOW_S
    assert threads.others_idle() is False  # 0.4 busy seconds in 0.2 s, none of them this process's


def test_without_the_machines_cpu_time_the_middle_band_stays_on_one_thread(monkeypatch: pytest.MonkeyPatch,
                                                                           clock: _Clock) -> None:
    monkeypatch.setattr(threads, "_read_busy_seconds", lambda: None)
    assert threads.others_idle() is False
    clock.wall += 10.0
    assert threads.others_idle() is False
    assert threads.threads_for((threads.IDLE_PARALLEL_FLOPS + threads.PARALLEL_FLOPS) / 2) == 1


def test_the_machines_busy_time_is_read_where_linux_gives_it() -> None:
    import os

    if not os.path.exists("/proc/stat"):
        pytest.skip("no /proc/stat here")
    first = threads._read_busy_seconds()
    assert first is not None and first > 0
    assert threads._read_busy_seconds() >= first


def test_a_busy_machine_is_seen_from_proc_stat(monkeypatch):
    """Other processes' CPU time over the window: the machine's busy time less this process's."""
    clock = {"wall": 100.0, "busy": 50.0, "own": 1.0}
    monkeypatch.setattr(threads, "_sample", lambda: (clock["wall"], clock["busy"], clock["own"]))
    monkeypatch.setattr(threads.time, "monotonic", lambda: clock["wall"])
    monkeypatch.setattr(threads, "_import_sample", (99.99, 49.99, 1.0))

    def sleep(seconds):  # another process ran a full core meanwhile, this one nothing
        clock["wall"] += seconds
        clock["busy"] += seconds

    monkeypatch.setattr(threads.time, "sleep", sleep)
    assert threads.others_busy_recently(window_s=0.05, longest_s=1.0)
    clock["busy"] = 50.0
    monkeypatch.setattr(threads.time, "sleep", lambda seconds: clock.update(wall=clock["wall"] + seconds))
    assert not threads.others_busy_recently(window_s=0.05, longest_s=1.0)
    monkeypatch.setattr(threads, "_read_busy_seconds", lambda: None)
    monkeypatch.setattr(threads, "_sample", lambda: None)
    monkeypatch.setattr(threads, "_import_sample", None)
    assert not threads.others_busy_recently()
