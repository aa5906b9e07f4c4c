"""A small between-graph trainer for the fault tests (tests/test_distributed_faults.py).

Every task runs it with TF_CONFIG set; ps tasks serve, workers train a linear model with
MonitoredTrainingSession until the global step reaches --last_step. It prints what the tests watch:

    session at step N      each time a worker's monitored session is (re)created, with the global step
    step N                 after each training step (the global step it read)
    done at step N         when the worker's loop ends
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import caudal as tf  # noqa: E402


class _Announce(tf.train.SessionRunHook):
    def __init__(self, global_step: tf.Tensor):
        self._global_step = global_step

    def after_create_session(self, session: tf.Session, coord: object) -> None:
        print(f"session at step {session.run(self._global_step)}", flush=True)


# The linear model the workers fit: y = x @ TRUE_W + 0.5.
TRUE_W = np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32)


def serve_this_task() -> tuple[tf.train.Server, tf.train.ClusterSpec, int] | None:
    """Starts this task's server from TF_CONFIG and prints "serving JOB:INDEX"; a ps task then serves
    until killed (None), a worker gets (server, cluster, task index)."""
    config = json.loads(os.environ["TF_CONFIG"])
    cluster = tf.train.ClusterSpec(config["cluster"])
    job, index = config["task"]["type"], config["task"]["index"]
    server = tf.train.Server(cluster, job_name=job, task_index=index)
    print(f"serving {job}:{index}", flush=True)
    if job == "ps":
        server.join()
        return None
    return server, cluster, index


def linear_model() -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """(x, y, squared-error loss, global step) of a 4-input linear model with weights w and b."""
    x = tf.placeholder(tf.float32, [None, 4])
    y = tf.placeholder(tf.float32, [None, 1])
    w = tf.Variable(tf.zeros([4, 1]), name="w")
    b = tf.Variable(0.0, name="b")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    return x, y, loss, tf.train.get_or_create_global_step()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--last_step", type=int, default=200)
    parser.add_argument("--step_sleep", type=float, default=0.02)
    parser.add_argument("--checkpoint_dir", required=True)
    parser.add_argument("--save_steps", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="log: %(message)s")
    task = serve_this_task()
    if task is None:
        return
    server, cluster, index = task
    with tf.device(tf.train.replica_device_setter(worker_device=f"/job:worker/task:{index}", cluster=cluster)):
        x, y, loss, global_step = linear_model()
        train_op = tf.train.GradientDescentOptimizer(0.05).minimize(loss, global_step=global_step)
    rng = np.random.default_rng(index)
    hooks = [tf.train.StopAtStepHook(last_step=args.last_step), _Announce(global_step)]
    with tf.train.MonitoredTrainingSession(master=server.target, is_chief=index == 0,
                                           checkpoint_dir=args.checkpoint_dir, hooks=hooks,
                                           save_checkpoint_steps=args.save_steps, save_summaries_steps=None,
                                           save_summaries_secs=None, log_step_count_steps=0) as sess:
        step = None
        while not sess.should_stop():
            xs = rng.standard_normal((16, 4)).astype(np.float32)
            _, step = sess.run([train_op, global_step], {x: xs, y: xs @ TRUE_W + 0.5})
            print(f"step {step}", flush=True)
            time.sleep(args.step_sleep)
    print(f"done at step {step}", flush=True)


if __name__ == "__main__":
    main()
