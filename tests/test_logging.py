"""tf.logging: TF's logger, format, verbosity and counting, checked against TF 2.21 (a program's stderr
recorded in tests/fixtures/long_tail/logging.json)."""
from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys

import pytest

import caudal as tf
from caudal import logging as tf_logging

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("long_tail_scenarios",
                                               os.path.join(HERE, "fixtures", "long_tail_scenarios.py"))
scenarios = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scenarios)


def test_a_program_logs_what_tensorflow_logs(tmp_path):
    program = tmp_path / "demo_logging.py"
    program.write_text(scenarios.LOGGING_PROGRAM.format(module="caudal"))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    done = subprocess.run([sys.executable, str(program)], capture_output=True, text=True, env=env)
    with open(os.path.join(HERE, "fixtures", "long_tail", "logging.json")) as f:
        expected = json.load(f)
    assert done.returncode == expected["returncode"]
    assert done.stderr.strip() == expected["stderr"].strip()


def test_an_interactive_session_logs_info_to_stdout(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    done = subprocess.run([sys.executable, "-i", "-c", "import caudal as tf; tf.logging.info('hello')"],
                          capture_output=True, text=True, env=env, input="")
    assert "INFO:tensorflow:hello" in done.stdout


def test_a_configured_root_logger_gets_no_second_handler(tmp_path):
    code = ("import logging, sys; logging.basicConfig(stream=sys.stdout, format='%(name)s|%(message)s'); "
            "import caudal as tf; tf.logging.warning('once'); print(len(tf.get_logger().handlers))")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.splitlines() == ["tensorflow|once", "0"]
    assert done.stderr == ""


@pytest.fixture
def verbosity():
    logger = tf.get_logger()
    saved = logger.level
    yield logger
    logger.setLevel(saved)


def test_levels_and_verbosity(verbosity, caplog):
    assert (tf.logging.DEBUG, tf.logging.INFO, tf.logging.WARN, tf.logging.ERROR, tf.logging.FATAL) == (
        10, 20, 30, 40, 50)
    tf.logging.set_verbosity(tf.logging.ERROR)
    assert tf.logging.get_verbosity() == 40
    with caplog.at_level(logging.DEBUG):
        tf.logging.set_verbosity(tf.logging.DEBUG)
        tf.logging.debug("d %d", 1)
        tf.logging.info("i")
        tf.logging.warn("w")
        tf.logging.error("e")
        tf.logging.fatal("f")
        tf.logging.vlog(tf.logging.INFO, "v %s", "x")
        tf.logging.log(tf.logging.WARN, "l")
        tf.logging.log_if(tf.logging.INFO, "shown", True)
        tf.logging.log_if(tf.logging.INFO, "hidden", False)
        tf.logging.TaskLevelStatusMessage("status")
    records = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "tensorflow"]
    assert records == [("DEBUG", "d 1"), ("INFO", "i"), ("WARNING", "w"), ("ERROR", "e"), ("CRITICAL", "f"),
                       ("INFO", "v x"), ("WARNING", "l"), ("INFO", "shown"), ("ERROR", "status")]
    assert all(r.filename == "test_logging.py" for r in caplog.records if r.name == "tensorflow")


def test_log_every_n_and_first_n_count_as_tensorflow_does(verbosity, caplog):
    def logged_by_helper(i: int) -> None:
        tf.logging.log_every_n(tf.logging.INFO, "every %d", 3, i)

    tf_logging._counts.clear()
    with caplog.at_level(logging.INFO):
        for i in range(7):
            logged_by_helper(i)
        for i in range(4):
            tf.logging.log_first_n(tf.logging.INFO, "first %d", 2, i)
    messages = [r.getMessage() for r in caplog.records if r.name == "tensorflow"]
    # All calls from this file share one count (TF's key is the first frame in another file).
    assert messages == ["every 0", "every 3", "every 6"]
    tf_logging._counts.clear()
    with caplog.at_level(logging.INFO):
        for i in range(4):
            tf.logging.log_first_n(tf.logging.INFO, "first %d", 2, i)
    assert [r.getMessage() for r in caplog.records if r.name == "tensorflow"][3:] == ["first 0", "first 1"]


def test_flush_raises_as_tensorflows_does():
    with pytest.raises(NotImplementedError):
        tf.logging.flush()
