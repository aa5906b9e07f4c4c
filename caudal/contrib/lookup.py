"""`tf.contrib.lookup` (TF 1.15): lookup tables, index tables from lists and files. Re-exports only;
the mutable tables of contrib (MutableHashTable, MutableDenseHashTable) are not part of caudal."""
from caudal.ops.lookup_tables import (
    FastHashSpec,
    HasherSpec,
    HashTable,
    IdTableWithHashBuckets,
    KeyValueTensorInitializer,
    TextFileIdTableInitializer,
    TextFileIndex,
    TextFileInitializer,
    TextFileStringTableInitializer,
    index_table_from_file,
    index_table_from_tensor,
    index_to_string_table_from_file,
    index_to_string_table_from_tensor,
)

__all__ = ["FastHashSpec", "HasherSpec", "HashTable", "IdTableWithHashBuckets", "KeyValueTensorInitializer",
           "TextFileIdTableInitializer", "TextFileIndex", "TextFileInitializer", "TextFileStringTableInitializer",
           "index_table_from_file", "index_table_from_tensor", "index_to_string_table_from_file",
           "index_to_string_table_from_tensor"]
