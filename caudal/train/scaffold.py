"""`tf.train.Scaffold`: the ops and Saver a monitored session initializes, checks and saves the model with.

`finalize()` fills in every piece not given, from the graph's collection
when it holds one (INIT_OP, READY_OP, READY_FOR_LOCAL_INIT_OP,
LOCAL_INIT_OP, SUMMARY_OP, SAVERS) or built as TensorFlow builds it, adding
what it built to the collection:

    init_op                  group(global variables' initializers, shared resources' initializers)
    ready_op                 names of uninitialized variables and resources (empty when ready)
    ready_for_local_init_op  the same for global variables and shared resources only
    local_init_op            group(local variables' initializers, tables' initializers, local resources')
    summary_op               tf.summary.merge_all(), or None
    saver                    the one Saver in SAVERS, else Saver(sharded=True, allow_empty=True)

then finalizes the graph: adding an op afterwards raises RuntimeError.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph import GraphKeys, get_default_graph

__all__ = ["Scaffold"]

_logger = logging.getLogger("caudal")


def _initialize_resources(resource_list: list[Any], name: str = "init") -> Any:
    """One op running the create ops of `resource_list` (TF's `initialize_resources`)."""
    from caudal.ops.control_ops import group, no_op

    if resource_list:
        return group(*[r.create for r in resource_list], name=name)
    return no_op(name=name)


def _report_uninitialized_resources(resource_list: list[Any] | None = None,
                                    name: str = "report_uninitialized_resources") -> Any:
    """A 1-D string tensor naming the resources not yet initialized (TF's `report_uninitialized_resources`)."""
    from caudal.ops.array_ops import stack
    from caudal.ops.comparison_ops import logical_not
    from caudal.ops.constant_ops import constant
    from caudal.ops.gather_ops import boolean_mask

    graph = get_default_graph()
    if resource_list is None:
        resource_list = graph.get_collection(GraphKeys.RESOURCES) + graph.get_collection(GraphKeys.LOCAL_RESOURCES)
    with graph.name_scope(name):
        if not resource_list:
            return constant(np.array([], dtype=object), dtype=dtypes_lib.string)
        uninitialized = logical_not(stack([r.is_initialized for r in resource_list]))
        names = constant(np.array([r.handle.name.encode() for r in resource_list], dtype=object),
                         dtype=dtypes_lib.string)
        return boolean_mask(names, uninitialized)


def _tables_initializer(name: str = "init_all_tables") -> Any:
    """One op running the initializers in TABLE_INITIALIZERS (TF's `tf.tables_initializer`)."""
    from caudal.ops.control_ops import group, no_op

    initializers = get_default_graph().get_collection(GraphKeys.TABLE_INITIALIZERS)
    return group(*initializers, name=name) if initializers else no_op(name=name)


def _get_saver_or_default() -> Any:
    """The one Saver of the SAVERS collection, else a new sharded one (added to the collection)."""
    from caudal.train.saver import Saver

    savers = get_default_graph().get_collection(GraphKeys.SAVERS)
    if savers:
        if len(savers) > 1:
            raise RuntimeError(f"More than one item in collection {GraphKeys.SAVERS}. Please indicate which one to "
                               "use by passing it to the constructor.")
        return savers[0]
    saver = Saver(sharded=True, allow_empty=True)
    get_default_graph().add_to_collection(GraphKeys.SAVERS, saver)
    return saver


class Scaffold:
    """`tf.train.Scaffold(init_op=None, init_feed_dict=None, init_fn=None, ready_op=None,
    ready_for_local_init_op=None, local_init_op=None, summary_op=None, saver=None, copy_from_scaffold=None,
    local_init_feed_dict=None)`.

    `init_fn(scaffold, session)` runs after `init_op` when the model is not
    restored from a checkpoint. With `copy_from_scaffold`, what is not given
    is taken from that scaffold.
    """

    def __init__(self, init_op: Any = None, init_feed_dict: Any = None,
                 init_fn: Callable[[Scaffold, Any], None] | None = None, ready_op: Any = None,
                 ready_for_local_init_op: Any = None, local_init_op: Any = None, summary_op: Any = None,
                 saver: Any = None, copy_from_scaffold: Scaffold | None = None, local_init_feed_dict: Any = None):
        if copy_from_scaffold is not None:
            if not isinstance(copy_from_scaffold, Scaffold):
                raise TypeError("copy_from_scaffold is not a Scaffold instance.")
            source = copy_from_scaffold

            def pick(mine: Any, theirs: Any) -> Any:
                return mine if mine is not None else theirs

            init_op = pick(init_op, source.init_op)
            init_feed_dict = pick(init_feed_dict, source.init_feed_dict)
            init_fn = pick(init_fn, source._user_init_fn)
            ready_op = pick(ready_op, source.ready_op)
            ready_for_local_init_op = pick(ready_for_local_init_op, source.ready_for_local_init_op)
            local_init_op = pick(local_init_op, source.local_init_op)
            local_init_feed_dict = pick(local_init_feed_dict, source.local_init_feed_dict)
            summary_op = pick(summary_op, source.summary_op)
            saver = pick(saver, source.saver)
        self._user_init_fn = init_fn
        self._init_fn = (lambda sess: init_fn(self, sess)) if init_fn else None
        self._init_op = init_op
        self._init_feed_dict = init_feed_dict
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._local_init_op = local_init_op
        self._local_init_feed_dict = local_init_feed_dict
        self._summary_op = summary_op
        self._saver = saver

    def finalize(self) -> Scaffold:
        """Creates the missing ops and the saver (see the module docstring), then finalizes the graph."""
        from caudal.ops.array_ops import concat
        from caudal.ops.control_ops import group
        from caudal.ops.summary_ops import merge_all
        from caudal.variables import global_variables, global_variables_initializer, report_uninitialized_variables

        graph = get_default_graph()
        if self._init_op is None:
            def default_init_op() -> Any:
                return group(global_variables_initializer(),
                             _initialize_resources(graph.get_collection(GraphKeys.RESOURCES)),
                             graph.get_collection("saved_model_initializers"))

            self._init_op = Scaffold.get_or_default("init_op", GraphKeys.INIT_OP, default_init_op)
        if self._ready_op is None:
            def default_ready_op() -> Any:
                return concat([report_uninitialized_variables(), _report_uninitialized_resources()], 0)

            self._ready_op = Scaffold.get_or_default("ready_op", GraphKeys.READY_OP, default_ready_op)
        if self._ready_for_local_init_op is None:
            def default_ready_for_local_init_op() -> Any:
                return concat([report_uninitialized_variables(global_variables()),
                               _report_uninitialized_resources(graph.get_collection(GraphKeys.RESOURCES))], 0)

            self._ready_for_local_init_op = Scaffold.get_or_default(
                "ready_for_local_init_op", GraphKeys.READY_FOR_LOCAL_INIT_OP, default_ready_for_local_init_op)
        if self._local_init_op is None:
            self._local_init_op = Scaffold.get_or_default("local_init_op", GraphKeys.LOCAL_INIT_OP,
                                                          Scaffold.default_local_init_op)
        if self._summary_op is None:
            self._summary_op = Scaffold.get_or_default("summary_op", GraphKeys.SUMMARY_OP, merge_all)
        if self._saver is None:
            self._saver = _get_saver_or_default()
        self._saver.build()
        graph.finalize()
        _logger.info("Graph was finalized.")
        return self

    @property
    def init_fn(self) -> Callable[[Any], None] | None:
        return self._init_fn

    @property
    def init_op(self) -> Any:
        return self._init_op

    @property
    def ready_op(self) -> Any:
        return self._ready_op

    @property
    def ready_for_local_init_op(self) -> Any:
        return self._ready_for_local_init_op

    @property
    def local_init_op(self) -> Any:
        return self._local_init_op

    @property
    def local_init_feed_dict(self) -> Any:
        return self._local_init_feed_dict

    @property
    def summary_op(self) -> Any:
        return self._summary_op

    @property
    def saver(self) -> Any:
        return self._saver

    @property
    def init_feed_dict(self) -> Any:
        return self._init_feed_dict

    @staticmethod
    def get_or_default(arg_name: str, collection_key: str, default_constructor: Callable[[], Any]) -> Any:
        """The one item of `collection_key`, else `default_constructor()` (added to the collection if not None).

        More than one item is a RuntimeError (whose arguments, as in TF, are the
        unformatted message and the two names).
        """
        elements = get_default_graph().get_collection(collection_key)
        if elements:
            if len(elements) > 1:
                raise RuntimeError('More than one item in the collection "%s". Please indicate which one to use by '
                                   "passing it to the tf.Scaffold constructor as:  tf.Scaffold(%s=item to use)",
                                   collection_key, arg_name)
            return elements[0]
        op = default_constructor()
        if op is not None:
            get_default_graph().add_to_collection(collection_key, op)
        return op

    @staticmethod
    def default_local_init_op() -> Any:
        """group(local variables' initializer, tables' initializer, local resources' initializer)."""
        from caudal.ops.control_ops import group
        from caudal.variables import local_variables_initializer

        graph = get_default_graph()
        return group(local_variables_initializer(), _tables_initializer(),
                     _initialize_resources(graph.get_collection(GraphKeys.LOCAL_RESOURCES)))
