"""`tf.estimator.ModeKeys`: the mode an Estimator calls its `model_fn` in."""

__all__ = ["ModeKeys"]


class ModeKeys:
    """`tf.estimator.ModeKeys`: `TRAIN = 'train'`, `EVAL = 'eval'`, `PREDICT = 'infer'`, as TF's."""

    TRAIN = "train"
    EVAL = "eval"
    PREDICT = "infer"
