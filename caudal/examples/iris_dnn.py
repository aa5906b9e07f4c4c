"""Iris with a pre-made `DNNClassifier([10, 20, 10])`: TF 1.x's "tf.estimator quickstart".

Fisher's 150 Iris flowers (sepal length and width, petal length and width in cm; species 0 setosa,
1 versicolor, 2 virginica) are embedded below and split, shuffled with `--seed`, into 120 training and 30
test rows. The classifier trains `--steps` steps (2,000) on `numpy_input_fn` batches of 128, evaluates on
the test rows (accuracy 0.933 for the default seed 0, 28 of 30 right; 0.967 to 1.0 for seeds 1-4),
classifies two new flowers (classes 1 and 2), exports a SavedModel and reloads it with
`tf.saved_model.loader.load`, whose `predict` signature gives the same probabilities.

    python -m caudal.examples.iris_dnn [--model_dir DIR] [--steps N] [--seed S]
"""
from __future__ import annotations

import argparse
import os
import tempfile
from typing import Any

import numpy as np

import caudal as tf
import caudal.estimator  # noqa: F401 - loads tf.estimator
import caudal.feature_column  # noqa: F401 - loads tf.feature_column

IRIS = """
5.1,3.5,1.4,0.2,0 4.9,3,1.4,0.2,0 4.7,3.2,1.3,0.2,0 4.6,3.1,1.5,0.2,0 5,3.6,1.4,0.2,0 5.4,3.9,1.7,0.4,0
4.6,3.4,1.4,0.3,0 5,3.4,1.5,0.2,0 4.4,2.9,1.4,0.2,0 4.9,3.1,1.5,0.1,0 5.4,3.7,1.5,0.2,0 4.8,3.4,1.6,0.2,0
4.8,3,1.4,0.1,0 4.3,3,1.1,0.1,0 5.8,4,1.2,0.2,0 5.7,4.4,1.5,0.4,0 5.4,3.9,1.3,0.4,0 5.1,3.5,1.4,0.3,0
5.7,3.8,1.7,0.3,0 5.1,3.8,1.5,0.3,0 5.4,3.4,1.7,0.2,0 5.1,3.7,1.5,0.4,0 4.6,3.6,1,0.2,0 5.1,3.3,1.7,0.5,0
4.8,3.4,1.9,0.2,0 5,3,1.6,0.2,0 5,3.4,1.6,0.4,0 5.2,3.5,1.5,0.2,0 5.2,3.4,1.4,0.2,0 4.7,3.2,1.6,0.2,0
4.8,3.1,1.6,0.2,0 5.4,3.4,1.5,0.4,0 5.2,4.1,1.5,0.1,0 5.5,4.2,1.4,0.2,0 4.9,3.1,1.5,0.1,0 5,3.2,1.2,0.2,0
5.5,3.5,1.3,0.2,0 4.9,3.1,1.5,0.1,0 4.4,3,1.3,0.2,0 5.1,3.4,1.5,0.2,0 5,3.5,1.3,0.3,0 4.5,2.3,1.3,0.3,0
4.4,3.2,1.3,0.2,0 5,3.5,1.6,0.6,0 5.1,3.8,1.9,0.4,0 4.8,3,1.4,0.3,0 5.1,3.8,1.6,0.2,0 4.6,3.2,1.4,0.2,0
5.3,3.7,1.5,0.2,0 5,3.3,1.4,0.2,0 7,3.2,4.7,1.4,1 6.4,3.2,4.5,1.5,1 6.9,3.1,4.9,1.5,1 5.5,2.3,4,1.3,1
6.5,2.8,4.6,1.5,1 5.7,2.8,4.5,1.3,1 6.3,3.3,4.7,1.6,1 4.9,2.4,3.3,1,1 6.6,2.9,4.6,1.3,1 5.2,2.7,3.9,1.4,1
5,2,3.5,1,1 5.9,3,4.2,1.5,1 6,2.2,4,1,1 6.1,2.9,4.7,1.4,1 5.6,2.9,3.6,1.3,1 6.7,3.1,4.4,1.4,1
5.6,3,4.5,1.5,1 5.8,2.7,4.1,1,1 6.2,2.2,4.5,1.5,1 5.6,2.5,3.9,1.1,1 5.9,3.2,4.8,1.8,1 6.1,2.8,4,1.3,1
6.3,2.5,4.9,1.5,1 6.1,2.8,4.7,1.2,1 6.4,2.9,4.3,1.3,1 6.6,3,4.4,1.4,1 6.8,2.8,4.8,1.4,1 6.7,3,5,1.7,1
6,2.9,4.5,1.5,1 5.7,2.6,3.5,1,1 5.5,2.4,3.8,1.1,1 5.5,2.4,3.7,1,1 5.8,2.7,3.9,1.2,1 6,2.7,5.1,1.6,1
5.4,3,4.5,1.5,1 6,3.4,4.5,1.6,1 6.7,3.1,4.7,1.5,1 6.3,2.3,4.4,1.3,1 5.6,3,4.1,1.3,1 5.5,2.5,4,1.3,1
5.5,2.6,4.4,1.2,1 6.1,3,4.6,1.4,1 5.8,2.6,4,1.2,1 5,2.3,3.3,1,1 5.6,2.7,4.2,1.3,1 5.7,3,4.2,1.2,1
5.7,2.9,4.2,1.3,1 6.2,2.9,4.3,1.3,1 5.1,2.5,3,1.1,1 5.7,2.8,4.1,1.3,1 6.3,3.3,6,2.5,2 5.8,2.7,5.1,1.9,2
7.1,3,5.9,2.1,2 6.3,2.9,5.6,1.8,2 6.5,3,5.8,2.2,2 7.6,3,6.6,2.1,2 4.9,2.5,4.5,1.7,2 7.3,2.9,6.3,1.8,2
6.7,2.5,5.8,1.8,2 7.2,3.6,6.1,2.5,2 6.5,3.2,5.1,2,2 6.4,2.7,5.3,1.9,2 6.8,3,5.5,2.1,2 5.7,2.5,5,2,2
5.8,2.8,5.1,2.4,2 6.4,3.2,5.3,2.3,2 6.5,3,5.5,1.8,2 7.7,3.8,6.7,2.2,2 7.7,2.6,6.9,2.3,2 6,2.2,5,1.5,2
6.9,3.2,5.7,2.3,2 5.6,2.8,4.9,2,2 7.7,2.8,6.7,2,2 6.3,2.7,4.9,1.8,2 6.7,3.3,5.7,2.1,2 7.2,3.2,6,1.8,2
6.2,2.8,4.8,1.8,2 6.1,3,4.9,1.8,2 6.4,2.8,5.6,2.1,2 7.2,3,5.8,1.6,2 7.4,2.8,6.1,1.9,2 7.9,3.8,6.4,2,2
6.4,2.8,5.6,2.2,2 6.3,2.8,5.1,1.5,2 6.1,2.6,5.6,1.4,2 7.7,3,6.1,2.3,2 6.3,3.4,5.6,2.4,2 6.4,3.1,5.5,1.8,2
6,3,4.8,1.8,2 6.9,3.1,5.4,2.1,2 6.7,3.1,5.6,2.4,2 6.9,3.1,5.1,2.3,2 5.8,2.7,5.1,1.9,2 6.8,3.2,5.9,2.3,2
6.7,3.3,5.7,2.5,2 6.7,3,5.2,2.3,2 6.3,2.5,5,1.9,2 6.5,3,5.2,2,2 6.2,3.4,5.4,2.3,2 5.9,3,5.1,1.8,2
"""
NEW_SAMPLES = np.array([[6.4, 3.2, 4.5, 1.5], [5.8, 3.1, 5.0, 1.7]], dtype=np.float32)


def load_iris(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train features, train labels, test features, test labels): 120 and 30 rows of the shuffled data."""
    rows = np.array([[float(v) for v in item.split(",")] for item in IRIS.split()], dtype=np.float32)
    rows = rows[np.random.RandomState(seed).permutation(len(rows))]
    features, labels = rows[:, :4], rows[:, 4].astype(np.int64)
    return features[:120], labels[:120], features[120:], labels[120:]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model_dir", default=None, help="where the model is saved (default: a new temporary "
                                                          "directory)")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    model_dir = args.model_dir or tempfile.mkdtemp(prefix="iris_model_")
    train_x, train_y, test_x, test_y = load_iris(args.seed)

    feature_columns = [tf.feature_column.numeric_column("x", shape=[4])]
    classifier = tf.estimator.DNNClassifier(hidden_units=[10, 20, 10], feature_columns=feature_columns,
                                            n_classes=3, model_dir=model_dir,
                                            config=tf.estimator.RunConfig(tf_random_seed=args.seed))
    train_input_fn = tf.estimator.inputs.numpy_input_fn(x={"x": train_x}, y=train_y, num_epochs=None,
                                                        shuffle=True)
    classifier.train(input_fn=train_input_fn, steps=args.steps)

    test_input_fn = tf.estimator.inputs.numpy_input_fn(x={"x": test_x}, y=test_y, num_epochs=1, shuffle=False)
    accuracy = float(classifier.evaluate(input_fn=test_input_fn)["accuracy"])
    print(f"Test Accuracy: {accuracy:f}")

    predict_input_fn = tf.estimator.inputs.numpy_input_fn(x={"x": NEW_SAMPLES}, num_epochs=1, shuffle=False)
    predictions = list(classifier.predict(input_fn=predict_input_fn))
    classes = [int(p["class_ids"][0]) for p in predictions]
    print(f"New Samples, Class Predictions: {classes}")

    receiver_fn = tf.estimator.export.build_raw_serving_input_receiver_fn(
        {"x": tf.placeholder(tf.float32, [None, 4])})
    export_dir = classifier.export_saved_model(os.path.join(model_dir, "export"), receiver_fn).decode()
    with tf.Graph().as_default(), tf.Session() as sess:
        meta_graph = tf.saved_model.loader.load(sess, [tf.saved_model.tag_constants.SERVING], export_dir)
        signature = meta_graph.signature_def["predict"]
        reloaded = sess.run(signature.outputs["probabilities"].name, {signature.inputs["x"].name: NEW_SAMPLES})
    expected = np.stack([p["probabilities"] for p in predictions])
    reload_matches = bool(np.allclose(reloaded, expected, rtol=1e-5, atol=1e-6))
    print(f"SavedModel {export_dir} reloaded; its predictions match: {reload_matches}")
    return {"accuracy": accuracy, "classes": classes, "reload_matches": reload_matches, "export_dir": export_dir,
            "model_dir": model_dir}


if __name__ == "__main__":
    main()
