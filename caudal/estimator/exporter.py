"""`tf.estimator.Exporter`s that `train_and_evaluate` calls after each evaluation: `LatestExporter` (every
evaluation, keeping the newest `exports_to_keep`), `FinalExporter` (the last one only) and `BestExporter`
(when the evaluation beats the best so far, by default the smaller `loss`)."""
from __future__ import annotations

import glob
import logging
import os
import shutil
from collections.abc import Callable
from typing import Any

from caudal.estimator.model_fn import fn_args

__all__ = ["Exporter", "LatestExporter", "FinalExporter", "BestExporter"]

_logger = logging.getLogger("caudal")


class Exporter:
    """`tf.estimator.Exporter`: a named export step, `export(estimator, export_path, checkpoint_path,
    eval_result, is_the_final_export)`."""

    @property
    def name(self) -> str:
        raise NotImplementedError("Exporter.name is abstract.")

    def export(self, estimator: Any, export_path: str, checkpoint_path: str, eval_result: dict,
               is_the_final_export: bool) -> Any:
        raise NotImplementedError("Exporter.export is abstract.")


class _SavedModelExporter(Exporter):
    def __init__(self, name: str, serving_input_receiver_fn: Callable, assets_extra: dict | None = None,
                 as_text: bool = False):
        self._name = name
        self._serving_input_receiver_fn = serving_input_receiver_fn
        self._assets_extra = assets_extra
        self._as_text = as_text

    @property
    def name(self) -> str:
        return self._name

    def export(self, estimator: Any, export_path: str, checkpoint_path: str, eval_result: dict,
               is_the_final_export: bool) -> Any:
        return estimator.export_saved_model(export_path, self._serving_input_receiver_fn,
                                            assets_extra=self._assets_extra, as_text=self._as_text,
                                            checkpoint_path=checkpoint_path)


def _check_exports_to_keep(exports_to_keep: int | None) -> None:
    if exports_to_keep is not None and exports_to_keep <= 0:
        raise ValueError(f"`exports_to_keep`, if provided, must be a positive number. Got {exports_to_keep}")


def _garbage_collect_exports(export_dir_base: str, exports_to_keep: int | None) -> None:
    """Deletes all but the newest `exports_to_keep` timestamped exports (10-digit directory names)."""
    if exports_to_keep is None or not os.path.isdir(export_dir_base):
        return
    versions = sorted((int(name), name) for name in os.listdir(export_dir_base)
                      if len(name) == 10 and name.isdigit())
    for _, name in versions[:-exports_to_keep]:
        try:
            shutil.rmtree(os.path.join(export_dir_base, name))
        except OSError as e:
            _logger.warning("Can not delete %s recursively: %s", os.path.join(export_dir_base, name), e)


class LatestExporter(Exporter):
    """`tf.estimator.LatestExporter(name, serving_input_receiver_fn, assets_extra=None, as_text=False,
    exports_to_keep=5)`."""

    def __init__(self, name: str, serving_input_receiver_fn: Callable, assets_extra: dict | None = None,
                 as_text: bool = False, exports_to_keep: int | None = 5):
        self._saved_model_exporter = _SavedModelExporter(name, serving_input_receiver_fn, assets_extra, as_text)
        _check_exports_to_keep(exports_to_keep)
        self._exports_to_keep = exports_to_keep

    @property
    def name(self) -> str:
        return self._saved_model_exporter.name

    def export(self, estimator: Any, export_path: str, checkpoint_path: str, eval_result: dict,
               is_the_final_export: bool) -> Any:
        result = self._saved_model_exporter.export(estimator, export_path, checkpoint_path, eval_result,
                                                   is_the_final_export)
        _garbage_collect_exports(export_path, self._exports_to_keep)
        return result


class FinalExporter(Exporter):
    """`tf.estimator.FinalExporter(name, serving_input_receiver_fn, assets_extra=None, as_text=False)`."""

    def __init__(self, name: str, serving_input_receiver_fn: Callable, assets_extra: dict | None = None,
                 as_text: bool = False):
        self._saved_model_exporter = _SavedModelExporter(name, serving_input_receiver_fn, assets_extra, as_text)

    @property
    def name(self) -> str:
        return self._saved_model_exporter.name

    def export(self, estimator: Any, export_path: str, checkpoint_path: str, eval_result: dict,
               is_the_final_export: bool) -> Any:
        if not is_the_final_export:
            return None
        _logger.info("Performing the final export in the end of training.")
        return self._saved_model_exporter.export(estimator, export_path, checkpoint_path, eval_result,
                                                 is_the_final_export)


def _loss_smaller(best_eval_result: dict, current_eval_result: dict) -> bool:
    if not best_eval_result or "loss" not in best_eval_result:
        raise ValueError("best_eval_result cannot be empty or no loss is found in it.")
    if not current_eval_result or "loss" not in current_eval_result:
        raise ValueError("current_eval_result cannot be empty or no loss is found in it.")
    return best_eval_result["loss"] > current_eval_result["loss"]


def _verify_compare_fn_args(compare_fn: Callable) -> None:
    args = set(fn_args(compare_fn))
    if "best_eval_result" not in args:
        raise ValueError(f"compare_fn ({compare_fn}) must include best_eval_result argument.")
    if "current_eval_result" not in args:
        raise ValueError(f"compare_fn ({compare_fn}) must include current_eval_result argument.")
    non_valid = list(args - {"best_eval_result", "current_eval_result"})
    if non_valid:
        raise ValueError(f"compare_fn ({compare_fn}) has following not expected args: {non_valid}")


class BestExporter(Exporter):
    """`tf.estimator.BestExporter(name='best_exporter', serving_input_receiver_fn=None,
    event_file_pattern='eval/*.tfevents.*', compare_fn=<smaller loss>, assets_extra=None, as_text=False,
    exports_to_keep=5)`: the best result so far is first read from the model's evaluation event files."""

    def __init__(self, name: str = "best_exporter", serving_input_receiver_fn: Callable | None = None,
                 event_file_pattern: str = "eval/*.tfevents.*", compare_fn: Callable | None = _loss_smaller,
                 assets_extra: dict | None = None, as_text: bool = False, exports_to_keep: int | None = 5):
        if compare_fn is None:
            raise ValueError("`compare_fn` must not be None.")
        _verify_compare_fn_args(compare_fn)
        self._compare_fn = compare_fn
        self._saved_model_exporter = _SavedModelExporter(name, serving_input_receiver_fn, assets_extra, as_text)
        self._event_file_pattern = event_file_pattern
        self._model_dir: str | None = None
        self._best_eval_result: dict | None = None
        self._has_exported = False
        _check_exports_to_keep(exports_to_keep)
        self._exports_to_keep = exports_to_keep

    @property
    def name(self) -> str:
        return self._saved_model_exporter.name

    def export(self, estimator: Any, export_path: str, checkpoint_path: str, eval_result: dict,
               is_the_final_export: bool) -> Any:
        if self._model_dir != estimator.model_dir and self._event_file_pattern:
            _logger.info("Loading best metric from event files.")
            self._model_dir = estimator.model_dir
            self._best_eval_result = self._get_best_eval_result(os.path.join(self._model_dir,
                                                                             self._event_file_pattern))
        if (self._best_eval_result is None or not self._has_exported
                or self._compare_fn(best_eval_result=self._best_eval_result, current_eval_result=eval_result)):
            _logger.info("Performing best model export.")
            self._best_eval_result = eval_result
            result = self._saved_model_exporter.export(estimator, export_path, checkpoint_path, eval_result,
                                                       is_the_final_export)
            _garbage_collect_exports(export_path, self._exports_to_keep)
            self._has_exported = True
            return result
        return None

    def _get_best_eval_result(self, event_files: str) -> dict | None:
        from caudal.summary.writer import summary_iterator

        best = None
        for event_file in sorted(glob.glob(event_files)):
            for event in summary_iterator(event_file):
                if not event.HasField("summary"):
                    continue
                result = {v.tag: v.simple_value for v in event.summary.value if v.HasField("simple_value")}
                if result and (best is None or self._compare_fn(best, result)):
                    best = result
        return best
