"""Starts a whole TF1 cluster on this machine: `python -m caudal.distribute.launch --ps 1 --workers 2 train.py ARGS`.

Every task runs the same program (`train.py ARGS`, or `-m module ARGS`) in its own process, with
`TF_CONFIG` describing the cluster and the task, as TF's launchers set it:

    {"cluster": {"ps": ["127.0.0.1:p0"], "worker": ["127.0.0.1:p1", "127.0.0.1:p2"]},
     "task": {"type": "worker", "index": 0}}

(ports chosen free on `--host`; `--chief` adds a "chief" job of one task; `--evaluator` adds an
"evaluator" task outside the cluster, as TF's Estimators expect it). Each line a task prints is
prefixed with its role (`[ps:0] `, `[worker:1] `). The chief is the "chief" task, else worker 0.
The launcher stops everything (SIGTERM, then SIGKILL after `--grace` seconds) when the chief ends
(and the evaluator, which evaluates the last checkpoint first), when any task fails (a non-zero
exit or a signal), after `--timeout` seconds, on Ctrl-C or on SIGTERM; its exit status is the
chief's (else the evaluator's), the failing task's (128 + the signal that killed it), 124 on
timeout, 130 on Ctrl-C, 143 on SIGTERM. Parameter servers block in `server.join()` and are
stopped this way.

The tasks are started with `subprocess` (a fresh interpreter each: nothing is forked from a
process that loaded gRPC), and the launcher itself never imports gRPC. The same program runs on
several machines by hand (or under Kubernetes, Slurm, ...) by setting TF_CONFIG on each machine.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

__all__ = ["main", "cluster_of", "Task"]


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def cluster_of(ps: int, workers: int, chief: bool, host: str) -> dict[str, list[str]]:
    """The cluster: `ps` parameter servers, `workers` workers (and a chief), each on a free port."""
    cluster: dict[str, list[str]] = {}
    if chief:
        cluster["chief"] = [f"{host}:{_free_port(host)}"]
    if ps:
        cluster["ps"] = [f"{host}:{_free_port(host)}" for _ in range(ps)]
    cluster["worker"] = [f"{host}:{_free_port(host)}" for _ in range(workers)]
    return cluster


class Task:
    """One process of the cluster, its output copied line by line with its role in front."""

    def __init__(self, job: str, index: int, command: list[str], cluster: dict[str, list[str]], out: Any,
                 lock: threading.Lock):
        self.job = job
        self.index = index
        self.role = f"{job}:{index}"
        env = dict(os.environ)
        env["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": job, "index": index}})
        env["PYTHONUNBUFFERED"] = "1"
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        self._reader = threading.Thread(target=self._copy, args=(out, lock), daemon=True)
        self._reader.start()

    def _copy(self, out: Any, lock: threading.Lock) -> None:
        prefix = f"[{self.role}] ".encode()
        for line in iter(self.process.stdout.readline, b""):
            with lock:
                out.write(prefix + line if line.endswith(b"\n") else prefix + line + b"\n")
                out.flush()

    def finish_output(self, timeout: float = 5.0) -> None:
        self._reader.join(timeout)

    def stop(self, grace: float) -> None:
        """SIGTERM, then SIGKILL if it has not ended within `grace` seconds."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_WITH_VALUE = frozenset(["--ps", "--workers", "--host", "--timeout", "--grace"])


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    """The launcher's own options, and the program with its arguments (from the script or `-m module` on)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "-m" or not arg.startswith("-"):
            return argv[:i], argv[i:]
        if arg == "--":
            return argv[:i], argv[i + 1:]
        i += 2 if arg in _WITH_VALUE else 1
    return argv, []


def _parse(argv: list[str] | None) -> argparse.Namespace:
    own, program = _split(list(sys.argv[1:] if argv is None else argv))
    parser = argparse.ArgumentParser(prog="python -m caudal.distribute.launch", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ps", type=int, default=1, help="parameter-server tasks (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="worker tasks (default 2)")
    parser.add_argument("--chief", action="store_true", help="add a 'chief' job of one task (else worker 0 leads)")
    parser.add_argument("--evaluator", action="store_true",
                        help="add an 'evaluator' task (tf.estimator.train_and_evaluate's); the launcher waits for it")
    parser.add_argument("--host", default="127.0.0.1", help="address the tasks listen on (default 127.0.0.1)")
    parser.add_argument("--timeout", type=float, default=0, help="stop everything after this many seconds")
    parser.add_argument("--grace", type=float, default=5.0, help="seconds between SIGTERM and SIGKILL")
    parser.add_argument("program", nargs="*", help="the script and its arguments, or -m module and its arguments")
    args = parser.parse_args(own)
    args.module = None
    args.program = program
    if program[:1] == ["-m"]:
        if len(program) < 2:
            parser.error("-m needs a module name")
        args.module, args.program = program[1], program[2:]
    elif not program:
        parser.error("the program to run is missing")
    if args.workers < 1 and not args.chief:
        parser.error("--workers must be at least 1 (or give --chief)")
    if args.ps < 0 or args.workers < 0:
        parser.error("--ps and --workers cannot be negative")
    return args


def main(argv: list[str] | None = None, out: Any = None) -> int:
    """Runs the cluster until the chief ends; returns the exit status (see the module docstring)."""
    args = _parse(argv)
    out = out if out is not None else sys.stdout.buffer
    program = ["-m", args.module, *args.program] if args.module else args.program
    command = [sys.executable, *program]
    cluster = cluster_of(args.ps, args.workers, args.chief, args.host)
    lock = threading.Lock()
    tasks = [Task(job, index, command, cluster, out, lock) for job in cluster for index in range(len(cluster[job]))]
    chief = tasks[0] if args.chief else next(t for t in tasks if t.job == "worker" and t.index == 0)
    leaders = [chief]
    if args.evaluator:
        leaders.append(Task("evaluator", 0, command, cluster, out, lock))
        tasks.append(leaders[-1])
    deadline = time.monotonic() + args.timeout if args.timeout > 0 else None
    status = 0
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    try:
        while True:
            failed = next((t for t in tasks if t.process.poll() not in (None, 0)), None)
            if failed is not None:
                status = failed.process.returncode
                _say(out, lock, f"[launch] {failed.role} ended with status {status}: stopping the cluster")
                status = status if status > 0 else 128 - status
                break
            if all(t.process.poll() is not None for t in leaders):
                status = chief.process.returncode or leaders[-1].process.returncode
                break
            if deadline is not None and time.monotonic() > deadline:
                _say(out, lock, f"[launch] timed out after {args.timeout:g} s: stopping the cluster")
                status = 124
                break
            time.sleep(0.05)
    except KeyboardInterrupt:
        status = 130
    except _Terminated:
        status = 143
    finally:
        for task in tasks:
            task.stop(args.grace)
        for task in tasks:
            task.finish_output()
    return status


class _Terminated(Exception):
    """The launcher got SIGTERM: it stops the cluster too."""


def _terminated(signum: int, frame: Any) -> None:
    raise _Terminated()


def _say(out: Any, lock: threading.Lock, text: str) -> None:
    with lock:
        out.write(text.encode() + b"\n")
        out.flush()


if __name__ == "__main__":
    sys.exit(main())
