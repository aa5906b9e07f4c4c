"""MNIST trained by a cluster, the "Distributed TensorFlow" how-to's trainer: between-graph replication.

Every task runs this program. Parameter servers serve the variables; each worker builds the model
under `replica_device_setter` (variables on the ps tasks, compute on itself) and trains
asynchronously with `MonitoredTrainingSession(master=server.target, is_chief=...)` until the
global step reaches `--train_steps` (`StopAtStepHook`); the chief (worker 0, or the "chief" task
when the cluster has one) initializes or restores the model and writes checkpoints to
`--checkpoint_dir`, which all tasks share.

On one machine:

    python -m caudal.distribute.launch --ps 1 --workers 2 -m caudal.examples.mnist_distributed \\
        --train_steps 500 --checkpoint_dir /tmp/mnist_dist

On several machines, run it on each with TF_CONFIG set, or with the how-to's flags:

    python -m caudal.examples.mnist_distributed --ps_hosts=h0:2222 --worker_hosts=h1:2222,h2:2222 \\
        --job_name=worker --task_index=0 --checkpoint_dir=/shared/mnist
"""
from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import caudal as tf
from caudal.distribute.cluster_resolver import TFConfigClusterResolver
from caudal.examples._mnist_common import evaluate
from caudal.examples.tutorials.mnist import input_data


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ps_hosts", default="", help="comma-separated host:port of the ps tasks")
    parser.add_argument("--worker_hosts", default="", help="comma-separated host:port of the worker tasks")
    parser.add_argument("--job_name", default="", help="'ps' or 'worker' (else read from TF_CONFIG)")
    parser.add_argument("--task_index", type=int, default=0)
    parser.add_argument("--data_dir", default="/tmp/tensorflow/mnist/input_data")
    parser.add_argument("--checkpoint_dir", default="/tmp/mnist_distributed")
    parser.add_argument("--train_steps", type=int, default=1000, help="global steps, all workers together")
    parser.add_argument("--batch_size", type=int, default=100)
    parser.add_argument("--learning_rate", type=float, default=0.5)
    parser.add_argument("--hidden_units", type=int, default=100, help="0: softmax regression, else an MLP")
    parser.add_argument("--save_checkpoint_steps", type=int, default=100)
    parser.add_argument("--log_every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def cluster_and_task(args: argparse.Namespace) -> tuple[Any, str, int]:
    """The cluster and this task, from the flags, else from TF_CONFIG."""
    if args.job_name:
        cluster = {"ps": args.ps_hosts.split(",") if args.ps_hosts else [],
                   "worker": args.worker_hosts.split(",")}
        return tf.train.ClusterSpec({k: v for k, v in cluster.items() if v}), args.job_name, args.task_index
    if "TF_CONFIG" not in os.environ:
        raise SystemExit("mnist_distributed: give --job_name with --ps_hosts/--worker_hosts, or set TF_CONFIG "
                         "(python -m caudal.distribute.launch sets it)")
    json.loads(os.environ["TF_CONFIG"])  # a malformed TF_CONFIG fails here, with json's message
    resolver = TFConfigClusterResolver()
    return resolver.cluster_spec(), resolver.task_type, resolver.task_id


def build_model(args: argparse.Namespace) -> dict[str, Any]:
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    y_ = tf.placeholder(tf.int64, [None], name="y_")
    if args.hidden_units:
        w1 = tf.Variable(tf.truncated_normal([784, args.hidden_units], stddev=0.1, seed=args.seed + 1), name="w1")
        b1 = tf.Variable(tf.zeros([args.hidden_units]), name="b1")
        hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
        w2 = tf.Variable(tf.truncated_normal([args.hidden_units, 10], stddev=0.1, seed=args.seed + 2), name="w2")
        b2 = tf.Variable(tf.zeros([10]), name="b2")
        logits = tf.matmul(hidden, w2) + b2
    else:
        w = tf.Variable(tf.zeros([784, 10]), name="w")
        b = tf.Variable(tf.zeros([10]), name="b")
        logits = tf.matmul(x, w) + b
    loss = tf.losses.sparse_softmax_cross_entropy(labels=y_, logits=logits)
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.GradientDescentOptimizer(args.learning_rate).minimize(loss, global_step=global_step)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y_), tf.float32))
    return {"x": x, "y_": y_, "loss": loss, "train_op": train_op, "global_step": global_step, "accuracy": accuracy}


def wait_for_model(target: str, timeout: float = 600.0) -> None:
    """Waits until the chief has initialized (or restored) the model on the ps tasks.

    MonitoredTrainingSession does this too, but polls every 30 seconds (TF's SessionManager), so
    a short run would end before the other workers join; this polls every half second."""
    ready = tf.report_uninitialized_variables()
    deadline = time.monotonic() + timeout
    with tf.Session(target) as sess:
        while sess.run(ready).size:
            if time.monotonic() > deadline:
                raise tf.errors.DeadlineExceededError(None, None, "The chief did not initialize the model.")
            time.sleep(0.5)


def main(argv: list[str] | None = None) -> float | None:
    args = _parse(argv)
    cluster, job_name, task_index = cluster_and_task(args)
    server = tf.train.Server(cluster, job_name=job_name, task_index=task_index)
    if job_name == "ps":
        print(f"ps {task_index} serving at {server.target}", flush=True)
        server.join()
        return None
    # The chief: the "chief" job's task when the cluster has one (`launch --chief`), else worker 0.
    is_chief = job_name == "chief" or ("chief" not in cluster.jobs and task_index == 0)
    mnist = input_data.read_data_sets(args.data_dir, seed=args.seed + task_index)
    with tf.device(tf.train.replica_device_setter(worker_device=f"/job:{job_name}/task:{task_index}",
                                                  cluster=cluster)):
        model = build_model(args)
    if not is_chief:
        wait_for_model(server.target)
    hooks = [tf.train.StopAtStepHook(last_step=args.train_steps)]
    steps_here = 0
    with tf.train.MonitoredTrainingSession(master=server.target, is_chief=is_chief,
                                           checkpoint_dir=args.checkpoint_dir, hooks=hooks,
                                           save_checkpoint_steps=args.save_checkpoint_steps,
                                           save_summaries_steps=None, save_summaries_secs=None,
                                           log_step_count_steps=0) as sess:
        while not sess.should_stop():
            images, labels = mnist.train.next_batch(args.batch_size)
            _, loss, step = sess.run([model["train_op"], model["loss"], model["global_step"]],
                                     {model["x"]: images, model["y_"]: labels})
            steps_here += 1
            if steps_here % args.log_every == 0:
                print(f"{job_name} {task_index}: global step {step}  loss {loss:.4f}", flush=True)
    print(f"{job_name} {task_index}: done after {steps_here} local steps", flush=True)
    if not is_chief:
        return None
    with tf.Session(server.target) as sess:
        saver = tf.train.Saver()
        saver.restore(sess, tf.train.latest_checkpoint(args.checkpoint_dir))
        accuracy = evaluate(sess, model["accuracy"], model["x"], model["y_"], mnist.test)
        step = sess.run(model["global_step"])
    print(f"global step {step}: test accuracy {accuracy:.4f}", flush=True)
    return accuracy


if __name__ == "__main__":
    main()
