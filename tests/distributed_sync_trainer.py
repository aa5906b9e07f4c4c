"""A between-graph trainer with tf.train.SyncReplicasOptimizer, for tests/test_sync_replicas_distributed.py.

Every task runs it with TF_CONFIG set; ps tasks serve, workers train a linear model with
SyncReplicasOptimizer(replicas_to_aggregate=--replicas, total_num_replicas=--replicas) under
MonitoredTrainingSession until the global step reaches --last_step. It prints what the test reads:

    session ready      once the worker's monitored session is created and the sync hook ran
    step T loss L      after each training step: the token the step dequeued and the step's loss
    done at step N     when the worker's loop ends, with the global step
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from distributed_trainer import TRUE_W, linear_model, serve_this_task  # noqa: E402

import caudal as tf  # noqa: E402


class _Announce(tf.train.SessionRunHook):
    def after_create_session(self, session: tf.Session, coord: object) -> None:
        print("session ready", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--last_step", type=int, default=30)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--num_tokens", type=int, default=-1)
    args = parser.parse_args()
    task = serve_this_task()
    if task is None:
        return
    server, cluster, index = task
    with tf.device(tf.train.replica_device_setter(worker_device=f"/job:worker/task:{index}", cluster=cluster)):
        x, y, loss, global_step = linear_model()
        optimizer = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.1),
                                                   replicas_to_aggregate=args.replicas,
                                                   total_num_replicas=args.replicas)
        train_op = optimizer.minimize(loss, global_step=global_step)
    is_chief = index == 0
    hooks = [optimizer.make_session_run_hook(is_chief, num_tokens=args.num_tokens),
             tf.train.StopAtStepHook(last_step=args.last_step), _Announce()]
    rng = np.random.default_rng(index)
    with tf.train.MonitoredTrainingSession(master=server.target, is_chief=is_chief, hooks=hooks,
                                           save_checkpoint_secs=None, save_checkpoint_steps=None,
                                           save_summaries_steps=None, save_summaries_secs=None,
                                           log_step_count_steps=0, stop_grace_period_secs=2) as sess:
        while not sess.should_stop():
            xs = rng.standard_normal((32, 4)).astype(np.float32)
            token, value = sess.run([train_op, loss], {x: xs, y: xs @ TRUE_W + 0.5})
            print(f"step {token} loss {value:.6f}", flush=True)
    with tf.Session(server.target) as plain:
        print(f"done at step {plain.run(global_step)}", flush=True)


if __name__ == "__main__":
    main()
