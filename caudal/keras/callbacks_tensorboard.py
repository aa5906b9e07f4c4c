"""`tf.keras.callbacks.TensorBoard` as TF-Keras's graph mode writes it (its `callbacks_v1` flavour).

One event file in `log_dir` (no train/validation subfolders): the graph (GraphDef and MetaGraphDef)
when `write_graph`, then each epoch's logs as simple scalars tagged `epoch_<name>` (`epoch_loss`,
`epoch_acc`, `epoch_val_loss`, ...) at step = epoch; with `update_freq='batch'` or an integer, batch
logs tagged `batch_<name>` too. With `histogram_freq` > 0, histograms of every layer weight are
written at the end of every `histogram_freq`-th epoch (TF computes them while validating; the values
are the same weights).
"""
from __future__ import annotations

from typing import Any

from caudal.keras import backend as K
from caudal.keras.callbacks import Callback, _python_value

__all__ = ["TensorBoard"]


class TensorBoard(Callback):
    def __init__(self, log_dir: Any = "./logs", histogram_freq: int = 0, batch_size: int = 32,
                 write_graph: bool = True, write_grads: bool = False, write_images: bool = False,
                 update_freq: Any = "epoch", profile_batch: Any = 2, embeddings_freq: int = 0,
                 embeddings_layer_names: Any = None, embeddings_metadata: Any = None, **kwargs: Any):
        super().__init__()
        self.log_dir = str(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.batch_size = batch_size
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.writer: Any = None
        self.merged: Any = None
        self._samples_seen = 0
        self._samples_seen_at_last_write = 0
        self._total_batches_seen = 0

    def set_model(self, model: Any) -> None:
        import caudal as tf

        self.model = model
        graph = K.get_graph()
        self.writer = tf.summary.FileWriter(self.log_dir, graph if self.write_graph else None)
        if self.histogram_freq and self.merged is None:
            with graph.as_default():
                summaries = [tf.summary.histogram(w.name.replace(":", "_"), w)
                             for layer in model.layers for w in layer.weights]
                self.merged = tf.summary.merge(summaries) if summaries else None

    def _write(self, step: int, logs: dict[str, Any]) -> None:
        import caudal as tf

        for name, value in logs.items():
            summary = tf.Summary()
            item = summary.value.add()
            item.simple_value = float(_python_value(value))
            item.tag = name
            self.writer.add_summary(summary, step)
        self.writer.flush()

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        logs = logs or {}
        self._samples_seen += logs.get("size", 1)
        if self.update_freq != "epoch" and self._samples_seen - self._samples_seen_at_last_write >= self.update_freq:
            self._write(self._total_batches_seen, {f"batch_{k}": v for k, v in logs.items()
                                                   if k not in ("batch", "size", "num_steps")})
            self._samples_seen_at_last_write = self._samples_seen
        self._total_batches_seen += 1

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        logs = {f"epoch_{k}": v for k, v in (logs or {}).items() if k not in ("batch", "size", "num_steps")}
        self._write(epoch if self.update_freq == "epoch" else self._samples_seen, logs)
        if self.merged is not None and epoch % self.histogram_freq == 0:
            self.writer.add_summary(K.get_session().run(self.merged), epoch)
            self.writer.flush()

    def on_train_end(self, logs: Any = None) -> None:
        self.writer.close()
