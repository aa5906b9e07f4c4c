"""TF1's lookup tables over the table ops of caudal.ops.lookup_ops (`tf.lookup`, `tf.contrib.lookup`):

- initializers: `KeyValueTensorInitializer` (LookupTableImportV2 in a `key_value_init` scope),
  `TextFileInitializer` and its `TextFileIdTableInitializer` / `TextFileStringTableInitializer`
  (InitializeTableFromTextFileV2 in `text_file_init`); each adds its op to the graph's
  TABLE_INITIALIZERS collection, which `tables_initializer()` groups;
- tables: `StaticHashTable` (TF1's `tf.lookup.StaticHashTable`, with `.initializer`) and
  `HashTable` (contrib's, with `.init` too): a HashTableV2 named `hash_table` by default,
  looked up in a `<table>_Lookup` scope; `StaticVocabularyTable` and `IdTableWithHashBuckets`:
  ids from a table, and `Fingerprint64 % num_oov_buckets + size` for keys it lacks (integer keys
  hashed as their decimal text);
- `index_table_from_tensor` / `index_table_from_file` (string or integer keys to int64 ids, with
  out-of-vocabulary buckets) and `index_to_string_table_from_tensor` / `_from_file`, with TF's
  scopes (`string_to_index/hash_table/table_init`, `index_to_string/...`) and argument checks.

Lookups of a SparseTensor keep its indices and dense shape.
"""
from __future__ import annotations

import collections
import uuid
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import GraphKeys, Operation, get_default_graph, make_op
from caudal.framework.sparse_tensor import SparseTensor
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import lookup_ops

__all__ = ["tables_initializer", "initialize_all_tables", "KeyValueTensorInitializer", "TextFileIndex",
           "TextFileInitializer", "TextFileIdTableInitializer", "TextFileStringTableInitializer", "StaticHashTable",
           "HashTable", "HasherSpec", "FastHashSpec", "IdTableWithHashBuckets", "StaticVocabularyTable",
           "index_table_from_tensor", "index_table_from_file", "index_to_string_table_from_tensor",
           "index_to_string_table_from_file"]


def tables_initializer(name: str = "init_all_tables") -> Operation:
    """`tf.tables_initializer`: one op running every initializer in TABLE_INITIALIZERS (a NoOp if none)."""
    from caudal.ops.control_ops import group, no_op

    initializers = get_default_graph().get_collection(GraphKeys.TABLE_INITIALIZERS)
    return group(*initializers, name=name) if initializers else no_op(name=name)


initialize_all_tables = tables_initializer


def _check_table_dtypes(table: Any, key_dtype: Any, value_dtype: Any) -> None:
    if key_dtype.base_dtype != table.key_dtype:
        raise TypeError(f"Invalid key dtype for table, expected {table.key_dtype} but got {key_dtype}.")
    if value_dtype.base_dtype != table.value_dtype:
        raise TypeError(f"Invalid value dtype for table, expected {table.value_dtype} but got {value_dtype}.")


# ------------------------------------------------------------------ initializers
class KeyValueTensorInitializer:
    """`tf.lookup.KeyValueTensorInitializer(keys, values, key_dtype=None, value_dtype=None, name=None)`."""

    def __init__(self, keys: Any, values: Any, key_dtype: Any = None, value_dtype: Any = None,
                 name: str | None = None):
        graph = get_default_graph()
        with graph._outside_control_flow():
            self._keys = convert_to_tensor(keys, dtype=key_dtype, name="keys")
            self._values = convert_to_tensor(values, dtype=value_dtype, name="values")
        self._name = name if name is not None else "key_value_init"
        self.key_dtype = self._keys.dtype.base_dtype
        self.value_dtype = self._values.dtype.base_dtype
        self._shared_name = None

    def initialize(self, table: Any) -> Operation:
        _check_table_dtypes(table, self._keys.dtype, self._values.dtype)
        graph = get_default_graph()
        with graph.name_scope(self._name):
            init = make_op("LookupTableImportV2", [table.resource_handle, self._keys, self._values],
                           {"Tin": self.key_dtype, "Tout": self.value_dtype}, "LookupTableImportV2")
        graph.add_to_collection(GraphKeys.TABLE_INITIALIZERS, init)
        return init


class TextFileIndex:
    """`tf.lookup.TextFileIndex`: the special column indices of a TextFileInitializer."""

    WHOLE_LINE = lookup_ops.WHOLE_LINE
    LINE_NUMBER = lookup_ops.LINE_NUMBER


class TextFileInitializer:
    """`tf.lookup.TextFileInitializer(filename, key_dtype, key_index, value_dtype, value_index,
    vocab_size=None, delimiter="\\t", name=None, value_index_offset=0)`, with TF's argument checks."""

    def __init__(self, filename: Any, key_dtype: Any, key_index: int, value_dtype: Any, value_index: int,
                 vocab_size: int | None = None, delimiter: str = "\t", name: str | None = None,
                 value_index_offset: int = 0):
        if not isinstance(filename, Tensor) and not filename:
            raise ValueError("`filename` argument required for tf.lookup.TextFileInitializer")
        key_dtype = dtypes_lib.as_dtype(key_dtype)
        value_dtype = dtypes_lib.as_dtype(value_dtype)
        if key_index < -2:
            raise ValueError(f"`key_index` should be >= -2, received: {key_index}.")
        if key_index == TextFileIndex.LINE_NUMBER and key_dtype != dtypes_lib.int64:
            raise ValueError(f"`key_dtype` must be int64 if `key_index` is {TextFileIndex.LINE_NUMBER}, received: "
                             f"{key_dtype}")
        if key_index == TextFileIndex.WHOLE_LINE and not key_dtype.is_integer and key_dtype != dtypes_lib.string:
            raise ValueError("`key_dtype` should be either integer or string for `key_index` "
                             f"{TextFileIndex.WHOLE_LINE}, received: {key_dtype}")
        if value_index < -2:
            raise ValueError(f"`value_index` should be >= -2, received: {value_index}")
        if value_index == TextFileIndex.LINE_NUMBER and value_dtype != dtypes_lib.int64:
            raise ValueError(f"`value_dtype` must be int64 for `value_index` {TextFileIndex.LINE_NUMBER}, received: "
                             f"{value_dtype}")
        if value_index == TextFileIndex.WHOLE_LINE and not value_dtype.is_integer and value_dtype != dtypes_lib.string:
            raise ValueError("`value_dtype` should be either integer or string for `value_index` "
                             f"{TextFileIndex.WHOLE_LINE}, received: {value_dtype}")
        if vocab_size is not None and vocab_size <= 0:
            raise ValueError(f"`vocab_size` should be > 0, received: {vocab_size}")
        self._filename = filename
        self._key_index = key_index
        self._value_index = value_index
        self._vocab_size = vocab_size
        self._delimiter = delimiter
        self._name = name
        self._offset = value_index_offset
        self.key_dtype = key_dtype
        self.value_dtype = value_dtype

    def initialize(self, table: Any) -> Operation:
        _check_table_dtypes(table, self.key_dtype, self.value_dtype)
        graph = get_default_graph()
        with graph.name_scope(self._name or "text_file_init"):
            filename = convert_to_tensor(self._filename, dtypes_lib.string, name="asset_filepath")
            init = make_op("InitializeTableFromTextFileV2", [table.resource_handle, filename],
                           {"key_index": int(self._key_index), "value_index": int(self._value_index),
                            "vocab_size": -1 if self._vocab_size is None else int(self._vocab_size),
                            "delimiter": self._delimiter, "offset": int(self._offset)},
                           "InitializeTableFromTextFileV2")
        graph.add_to_collection(GraphKeys.TABLE_INITIALIZERS, init)
        if filename.op.type == "Const":
            graph.add_to_collection(GraphKeys.ASSET_FILEPATHS, filename)
        return init

    @property
    def _shared_name(self) -> str:
        parts = [str(self._filename)]
        if self._vocab_size:
            parts.append(str(self._vocab_size))
        parts += [str(self._key_index), str(self._value_index)]
        if self._offset:
            parts.append(str(self._offset))
        return "hash_table_" + "_".join(parts)


class TextFileIdTableInitializer(TextFileInitializer):
    """Keys from a column (the whole line by default), int64 ids from the line number."""

    def __init__(self, filename: Any, key_column_index: int = TextFileIndex.WHOLE_LINE,
                 value_column_index: int = TextFileIndex.LINE_NUMBER, vocab_size: int | None = None,
                 delimiter: str = "\t", name: str = "text_file_id_table_init", key_dtype: Any = dtypes_lib.string):
        super().__init__(filename, key_dtype, key_column_index, dtypes_lib.int64, value_column_index,
                         vocab_size=vocab_size, delimiter=delimiter, name=name)


class TextFileStringTableInitializer(TextFileInitializer):
    """int64 keys from the line number, string values from a column (the whole line by default)."""

    def __init__(self, filename: Any, key_column_index: int = TextFileIndex.LINE_NUMBER,
                 value_column_index: int = TextFileIndex.WHOLE_LINE, vocab_size: int | None = None,
                 delimiter: str = "\t", name: str = "text_file_string_table_init"):
        super().__init__(filename, dtypes_lib.int64, key_column_index, dtypes_lib.string, value_column_index,
                         vocab_size=vocab_size, delimiter=delimiter, name=name)


# ------------------------------------------------------------------------ tables
class StaticHashTable:
    """TF1's `tf.lookup.StaticHashTable(initializer, default_value, name=None)`: an immutable table,
    filled by its initializer when `tables_initializer()` (or `.initializer`) runs."""

    def __init__(self, initializer: Any, default_value: Any, name: str | None = None):
        self._initializer = initializer
        self.key_dtype = initializer.key_dtype
        self.value_dtype = initializer.value_dtype
        graph = get_default_graph()
        self._default_value = convert_to_tensor(default_value, dtype=self.value_dtype)
        self._default_value.shape.merge_with(TensorShape([]))
        shared = initializer._shared_name or f"hash_table_{uuid.uuid4()}"
        with graph._outside_control_flow():
            self._resource_handle = make_op("HashTableV2", [],
                                            {"shared_name": shared, "key_dtype": self.key_dtype,
                                             "value_dtype": self.value_dtype, "container": "",
                                             "use_node_name_sharing": False},
                                            name or "hash_table").outputs[0]
        self._name = self._resource_handle.op.name.split("/")[-1]
        self._init_op = initializer.initialize(self)

    @property
    def name(self) -> str:
        return self._name

    @property
    def resource_handle(self) -> Tensor:
        return self._resource_handle

    @property
    def default_value(self) -> Tensor:
        return self._default_value

    @property
    def initializer(self) -> Operation:
        return self._init_op

    def size(self, name: str | None = None) -> Tensor:
        """The number of entries (int64)."""
        with get_default_graph().name_scope(name or f"{self._name}_Size"):
            return make_op("LookupTableSizeV2", [self._resource_handle], {}, "LookupTableSizeV2").outputs[0]

    def lookup(self, keys: Any, name: str | None = None) -> Any:
        """The value of each key, or the default value; a SparseTensor keeps its indices."""
        values = keys.values if isinstance(keys, SparseTensor) else keys
        if keys.dtype.base_dtype != self.key_dtype:
            raise TypeError(f"Dtype of argument `keys` must be {self.key_dtype}, received: {keys.dtype}")
        with get_default_graph().name_scope(name or f"{self._name}_Lookup"):
            found = make_op("LookupTableFindV2", [self._resource_handle, values, self._default_value],
                            {"Tin": self.key_dtype, "Tout": self.value_dtype}, "LookupTableFindV2").outputs[0]
        if isinstance(keys, SparseTensor):
            return SparseTensor(keys.indices, found, keys.dense_shape)
        return found

    def __getitem__(self, keys: Any) -> Any:
        return self.lookup(keys)


class HashTable(StaticHashTable):
    """`tf.contrib.lookup.HashTable`: StaticHashTable with `.init`, the initializer op."""

    @property
    def init(self) -> Operation:
        return self.initializer


class HasherSpec(collections.namedtuple("HasherSpec", ["hasher", "key"])):
    """Which hash the out-of-vocabulary buckets use; caudal has TF's "fasthash" (Fingerprint64)."""

    __slots__ = ()


FastHashSpec = HasherSpec("fasthash", None)


def _as_string(tensor: Tensor) -> Tensor:
    from caudal.ops.categorical_ops import as_string

    return tensor if tensor.dtype.base_dtype == dtypes_lib.string else as_string(tensor)


class IdTableWithHashBuckets:
    """`tf.contrib.lookup.IdTableWithHashBuckets(table, num_oov_buckets, hasher_spec=FastHashSpec,
    name=None, key_dtype=None)`: the table's id, or `Fingerprint64(key) % num_oov_buckets +
    table.size()` for keys it lacks (every key hashed when `table` is None)."""

    def __init__(self, table: Any, num_oov_buckets: int, hasher_spec: Any = FastHashSpec, name: str | None = None,
                 key_dtype: Any = None):
        if name:
            name = name.rstrip("/")
        if table:
            key_dtype = table.key_dtype if key_dtype is None else dtypes_lib.as_dtype(key_dtype)
            supported = (dtypes_lib.int64, dtypes_lib.string)
            if table.key_dtype not in supported:
                raise TypeError(f"Invalid `key_dtype`, expected one of {supported}, received {key_dtype}.")
            if table.key_dtype.is_integer != key_dtype.is_integer:
                raise TypeError(f"Invalid `key dtype`, expected {'integer' if key_dtype.is_integer else 'non-integer'}"
                                f" but got {table.key_dtype}.")
            if table.value_dtype != dtypes_lib.int64:
                raise TypeError(f"Invalid `value_dtype`: expected int64 but got {table.value_dtype}.")
            name = name or table.name
        else:
            if num_oov_buckets <= 0:
                raise ValueError("`oov_buckets` must be > 0 if no `table` is supplied.")
            key_dtype = dtypes_lib.string if key_dtype is None else dtypes_lib.as_dtype(key_dtype)
            name = name or "hash_bucket"
        if not key_dtype.is_integer and key_dtype != dtypes_lib.string:
            raise TypeError(f"Invalid `key_dtype`, expected integer or string, got {key_dtype}.")
        if not isinstance(hasher_spec, HasherSpec):
            raise TypeError(f"`hasher_spec` must be of type HasherSpec, got {type(hasher_spec)}.")
        if hasher_spec.hasher != "fasthash":
            raise ValueError(f"Found unknown hasher {hasher_spec.hasher} in `hasher_spec`")
        self._table = table
        self._num_oov_buckets = num_oov_buckets
        self.key_dtype = key_dtype
        self.value_dtype = dtypes_lib.int64
        self._name = name.split("/")[-1]

    @property
    def name(self) -> str:
        return self._name

    @property
    def resource_handle(self) -> Tensor | None:
        return self._table.resource_handle if self._table is not None else None

    @property
    def initializer(self) -> Operation:
        if self._table is not None:
            return self._table.initializer
        from caudal.ops.control_ops import no_op

        with get_default_graph().name_scope("init"):
            return no_op()

    init = initializer

    def size(self, name: str | None = None) -> Tensor:
        """The table's size plus the number of buckets."""
        with get_default_graph().name_scope(name or f"{self._name}_Size"):
            base = self._table.size() if self._table else convert_to_tensor(0, dtype=dtypes_lib.int64)
            return base + self._num_oov_buckets

    def lookup(self, keys: Any, name: str | None = None) -> Any:
        """Ids for `keys` (a Tensor or a SparseTensor)."""
        from caudal.ops.categorical_ops import string_to_hash_bucket_fast
        from caudal.ops.comparison_ops import not_equal, where_v2
        from caudal.ops.math_ops import add, cast

        if keys.dtype.base_dtype != self.key_dtype:
            raise TypeError(f"Dtype of argument `keys` must be {self.key_dtype}, received: {keys.dtype}")
        values = keys.values if isinstance(keys, SparseTensor) else keys
        if self._table and self._table.key_dtype.base_dtype == dtypes_lib.int64:
            values = cast(values, dtypes_lib.int64)
        if self._num_oov_buckets == 0:
            ids = self._table.lookup(values, name=name)
        else:
            with get_default_graph().name_scope(name or f"{self._name}_Lookup"):
                buckets = string_to_hash_bucket_fast(_as_string(values), num_buckets=self._num_oov_buckets,
                                                     name="hash_bucket")
                if self._table:
                    ids = self._table.lookup(values)
                    buckets = add(buckets, self._table.size())
                    ids = where_v2(not_equal(ids, self._table.default_value), ids, buckets)
                else:
                    ids = buckets
        if isinstance(keys, SparseTensor):
            return SparseTensor(keys.indices, ids, keys.dense_shape)
        return ids

    def __getitem__(self, keys: Any) -> Any:
        return self.lookup(keys)


class StaticVocabularyTable(IdTableWithHashBuckets):
    """TF1's `tf.lookup.StaticVocabularyTable(initializer, num_oov_buckets, lookup_key_dtype=None,
    name=None)`: a StaticHashTable of the initializer's ids plus `num_oov_buckets` hash buckets."""

    def __init__(self, initializer: Any, num_oov_buckets: int, lookup_key_dtype: Any = None,
                 name: str | None = None):
        if num_oov_buckets <= 0:
            raise ValueError("`num_oov_buckets` must be > 0; use StaticHashTable.")
        table = None
        if initializer:
            if initializer.value_dtype != dtypes_lib.int64:
                raise TypeError(f"Invalid `value_dtype`, expected {dtypes_lib.int64} but got "
                                f"{initializer.value_dtype}.")
            table = StaticHashTable(initializer, default_value=-1)
        super().__init__(table, num_oov_buckets, name=name, key_dtype=lookup_key_dtype)


# ------------------------------------------------------------- index tables
def index_table_from_tensor(vocabulary_list: Any, num_oov_buckets: int = 0, default_value: int = -1,
                            hasher_spec: Any = FastHashSpec, dtype: Any = dtypes_lib.string,
                            name: str | None = None) -> Any:
    """`tf.contrib.lookup.index_table_from_tensor`: each vocabulary entry's position as its int64 id;
    other keys get `default_value`, or one of `num_oov_buckets` hash buckets after the vocabulary."""
    from caudal.ops.array_ops import range as range_
    from caudal.ops.array_ops import size
    from caudal.ops.math_ops import cast

    if vocabulary_list is None:
        raise ValueError("`vocabulary_list` must be specified.")
    if num_oov_buckets < 0:
        raise ValueError(f"`num_oov_buckets` must be greater or equal than 0, got {num_oov_buckets}.")
    dtype = dtypes_lib.as_dtype(dtype)
    if not dtype.is_integer and dtype.base_dtype != dtypes_lib.string:
        raise TypeError("`dtype` must either be integer or string.")
    graph = get_default_graph()
    with graph.name_scope(name or "string_to_index"):
        keys = convert_to_tensor(vocabulary_list)
        if keys.dtype.is_integer != dtype.is_integer:
            raise ValueError(f"Invalid `dtype`: Expected {'integer' if dtype.is_integer else 'non-integer'}, got "
                             f"{keys.dtype}.")
        if not dtype.is_integer and keys.dtype.base_dtype != dtype:
            raise ValueError(f"Invalid `dtype`: Expected {dtype}, got {keys.dtype}.")
        values = cast(range_(size(keys)), dtypes_lib.int64)
        with graph.name_scope("hash_table"):
            table_keys = cast(keys, dtypes_lib.int64) if keys.dtype.is_integer else keys
            init = KeyValueTensorInitializer(table_keys, values, table_keys.dtype.base_dtype, dtypes_lib.int64,
                                             name="table_init")
            table: Any = StaticHashTable(init, default_value)
        if num_oov_buckets:
            table = IdTableWithHashBuckets(table, num_oov_buckets=num_oov_buckets, hasher_spec=hasher_spec,
                                           key_dtype=dtype)
        return table


def index_table_from_file(vocabulary_file: Any = None, num_oov_buckets: int = 0, vocab_size: int | None = None,
                          default_value: int = -1, hasher_spec: Any = FastHashSpec, key_dtype: Any = dtypes_lib.string,
                          name: str | None = None, key_column_index: int = TextFileIndex.WHOLE_LINE,
                          value_column_index: int = TextFileIndex.LINE_NUMBER, delimiter: str = "\t") -> Any:
    """`tf.contrib.lookup.index_table_from_file`: each line's key gets its line number as id."""
    if vocabulary_file is None or (isinstance(vocabulary_file, str) and not vocabulary_file):
        raise ValueError("`vocabulary_file` must be specified and must not be empty.")
    if num_oov_buckets < 0:
        raise ValueError(f"num_oov_buckets must be greater or equal than 0, got {num_oov_buckets}.")
    if vocab_size is not None and vocab_size < 1:
        raise ValueError(f"`vocab_size` must be greater than 0, got {vocab_size} for vocabulary_file: "
                         f"{vocabulary_file}.")
    key_dtype = dtypes_lib.as_dtype(key_dtype)
    if not key_dtype.is_integer and key_dtype.base_dtype != dtypes_lib.string:
        raise TypeError("Dtype for `keys` should be either integer or string.")
    graph = get_default_graph()
    with graph.name_scope(name or "string_to_index"):
        with graph.name_scope("hash_table"):
            init = TextFileIdTableInitializer(vocabulary_file, vocab_size=vocab_size,
                                              key_dtype=dtypes_lib.int64 if key_dtype.is_integer else key_dtype,
                                              name="table_init", key_column_index=key_column_index,
                                              value_column_index=value_column_index, delimiter=delimiter)
            table: Any = StaticHashTable(init, default_value)
        if num_oov_buckets:
            table = IdTableWithHashBuckets(table, num_oov_buckets=num_oov_buckets, hasher_spec=hasher_spec,
                                           key_dtype=key_dtype)
        return table


def index_to_string_table_from_tensor(vocabulary_list: Any, default_value: str = "UNK",
                                      name: str | None = None) -> StaticHashTable:
    """`tf.contrib.lookup.index_to_string_table_from_tensor`: int64 ids to their vocabulary entry."""
    from caudal.ops.array_ops import range as range_
    from caudal.ops.array_ops import size
    from caudal.ops.math_ops import cast

    if vocabulary_list is None:
        raise ValueError("`vocabulary_list` argument must be specified.")
    with get_default_graph().name_scope(name or "index_to_string"):
        vocabulary = convert_to_tensor(vocabulary_list, dtypes_lib.string)
        keys = cast(range_(size(vocabulary)), dtypes_lib.int64)
        init = KeyValueTensorInitializer(keys, vocabulary, dtypes_lib.int64, dtypes_lib.string, name="table_init")
        return StaticHashTable(init, default_value)


def index_to_string_table_from_file(vocabulary_file: Any, vocab_size: int | None = None, default_value: str = "UNK",
                                    name: str | None = None, key_column_index: int = TextFileIndex.LINE_NUMBER,
                                    value_column_index: int = TextFileIndex.WHOLE_LINE,
                                    delimiter: str = "\t") -> StaticHashTable:
    """`tf.contrib.lookup.index_to_string_table_from_file`: line numbers to the lines' values."""
    if vocabulary_file is None or (isinstance(vocabulary_file, str) and not vocabulary_file):
        raise ValueError("`vocabulary_file` must be specified and must not be empty.")
    if vocab_size is not None and vocab_size < 1:
        raise ValueError(f"`vocab_size` must be greater than 0, got {vocab_size}.")
    with get_default_graph().name_scope(name or "index_to_string"):
        init = TextFileStringTableInitializer(vocabulary_file, vocab_size=vocab_size, name="table_init",
                                              key_column_index=key_column_index,
                                              value_column_index=value_column_index, delimiter=delimiter)
        return StaticHashTable(init, default_value)
