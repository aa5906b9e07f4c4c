"""Sessions on a named backend, and what their plans contain, for tests that compare backends."""
from __future__ import annotations

import caudal as tf


def session_on(backend: str) -> tf.Session:
    """A Session whose plans run on `backend` (ConfigProto's experimental.executor_type)."""
    config = tf.ConfigProto()
    config.experimental.executor_type = backend
    return tf.Session(config=config)


def count_in_plans(sess: tf.Session, text: str) -> int:
    """How often `text` occurs in the source of the plans `sess` has built (a fused call's keyword)."""
    return sum(plan.source.count(text) for plan in sess._plans.values())
