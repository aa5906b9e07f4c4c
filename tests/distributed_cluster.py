"""Helpers of the distributed tests: free loopback ports, and processes (servers, trainers) with a hard
timeout that are always killed by their PID."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_cluster(**jobs: int) -> dict[str, list[str]]:
    """{"ps": ["127.0.0.1:p", ...], ...} with free ports: loopback_cluster(ps=1, worker=2)."""
    return {job: [f"127.0.0.1:{free_port()}" for _ in range(count)] for job, count in jobs.items()}


class Process:
    """A Python process whose output is collected; killed (SIGKILL, by PID) after `timeout` seconds at
    the latest, and by `kill()`."""

    def __init__(self, args: list[str], timeout: float = 120.0, env: dict[str, str] | None = None,
                 group: bool = False):
        full_env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=REPO)
        full_env.update(env or {})
        self.group = group  # its own process group, killed as a whole (a launcher and its tasks)
        self.process = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=full_env, cwd=REPO, start_new_session=group)
        self.pid = self.process.pid
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._watchdog = threading.Timer(timeout, self.kill)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _read(self) -> None:
        for raw in iter(self.process.stdout.readline, b""):
            with self._changed:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for_line(self, text: str, timeout: float = 60.0) -> str:
        """The first output line containing `text`; AssertionError (with the output) if none comes."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no line with {text!r} from pid {self.pid}; output:\n" + self.output())
                self._changed.wait(min(remaining, 0.2))

    def wait(self, timeout: float = 60.0) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"pid {self.pid} did not end in {timeout} s; output:\n" + self.output()) from None

    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def kill(self) -> None:
        try:
            if self.group:
                os.killpg(self.pid, signal.SIGKILL)
            elif self.process.poll() is None:
                os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self._watchdog.cancel()

    def lines_with(self, text: str) -> list[str]:
        with self._changed:
            return [line for line in self.lines if text in line]


def server_process(cluster: dict[str, list[str]], job: str, index: int, timeout: float = 120.0) -> Process:
    """A `tf.train.Server` of `cluster`'s task (job, index) in its own process, ready when returned."""
    code = ("import caudal as tf\n"
            f"server = tf.train.Server({cluster!r}, job_name={job!r}, task_index={index})\n"
            "print('ready', server.target, flush=True)\n"
            "server.join()\n")
    process = Process(["-c", code], timeout=timeout)
    process.wait_for_line("ready")
    return process


def kill_all(processes: list[Any]) -> None:
    for process in processes:
        if process is not None:
            process.kill()


def trainer(cluster: dict[str, list[str]], job: str, index: int, *args: str, timeout: float = 300.0) -> Process:
    """tests/distributed_trainer.py as task (job, index) of `cluster` (its TF_CONFIG)."""
    import json

    config = json.dumps({"cluster": cluster, "task": {"type": job, "index": index}})
    return Process([os.path.join(REPO, "tests", "distributed_trainer.py"), *args], timeout=timeout,
                   env={"TF_CONFIG": config})
