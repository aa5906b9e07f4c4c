"""`tf.lookup` (TF1, as `tf.compat.v1.lookup`): lookup tables and their initializers. Re-exports only.
TF's `tf.lookup.experimental` (MutableHashTable, DenseHashTable) is not part of caudal."""
from caudal.ops.lookup_tables import (
    KeyValueTensorInitializer,
    StaticHashTable,
    StaticVocabularyTable,
    TextFileIndex,
    TextFileInitializer,
)

__all__ = ["KeyValueTensorInitializer", "StaticHashTable", "StaticVocabularyTable", "TextFileIndex",
           "TextFileInitializer"]
