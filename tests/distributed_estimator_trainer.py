"""`tf.estimator.train_and_evaluate` on a cluster, for tests/test_distributed_estimator.py.

Every task runs this program with TF_CONFIG set (ps, chief, worker or evaluator): a LinearClassifier
learns which of two features is larger. Each trainer prints `steps run: N` (the training steps it ran
itself) when its training ends, and the evaluator prints `evaluated at step S: accuracy A` after each
evaluation.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import caudal as tf  # noqa: E402
import caudal.estimator  # noqa: E402,F401 - loads tf.estimator

RNG = np.random.RandomState(0)
X = RNG.uniform(-1, 1, (400, 2)).astype(np.float32)
Y = (X[:, 0] > X[:, 1]).astype(np.int64)


class _CountSteps(tf.train.SessionRunHook):
    def begin(self) -> None:
        self.steps = 0

    def after_run(self, run_context: object, run_values: object) -> None:
        self.steps += 1

    def end(self, session: object) -> None:
        print(f"steps run: {self.steps}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_dir", required=True)
    parser.add_argument("--max_steps", type=int, default=200)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    config = tf.estimator.RunConfig(tf_random_seed=0, save_checkpoints_steps=50, experimental_max_worker_delay_secs=0)
    columns = [tf.feature_column.numeric_column("x", shape=[2])]
    estimator = tf.estimator.LinearClassifier(columns, model_dir=args.model_dir, config=config,
                                              optimizer=lambda: tf.train.GradientDescentOptimizer(0.5))
    train_input = tf.estimator.inputs.numpy_input_fn({"x": X}, Y, batch_size=20, num_epochs=None, shuffle=True)
    eval_input = tf.estimator.inputs.numpy_input_fn({"x": X}, Y, batch_size=100, num_epochs=1, shuffle=False)
    print(f"task {config.task_type}:{config.task_id} master {config.master!r} chief {config.is_chief} "
          f"device filters {list(config.session_config.device_filters) if config.session_config else None}",
          flush=True)
    exporter = _PrintingExporter()
    result = tf.estimator.train_and_evaluate(
        estimator, tf.estimator.TrainSpec(train_input, max_steps=args.max_steps, hooks=[_CountSteps()]),
        tf.estimator.EvalSpec(eval_input, steps=None, throttle_secs=1, start_delay_secs=0, exporters=[exporter]))
    print(f"train_and_evaluate returned {result}", flush=True)


class _PrintingExporter(tf.estimator.Exporter):
    """Prints each evaluation's step and accuracy (TF calls exporters after every evaluation)."""

    @property
    def name(self) -> str:
        return "printing"

    def export(self, estimator: object, export_path: str, checkpoint_path: str, eval_result: dict,
               is_the_final_export: bool) -> None:
        print(f"evaluated at step {eval_result['global_step']}: accuracy {eval_result['accuracy']:.3f}", flush=True)


if __name__ == "__main__":
    main()
