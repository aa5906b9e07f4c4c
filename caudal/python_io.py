"""`tf.python_io` (TF1): TFRecord files. Re-exports only."""
from caudal.summary.records import TFRecordCompressionType, TFRecordOptions, TFRecordWriter, tf_record_iterator

__all__ = ["TFRecordCompressionType", "TFRecordOptions", "TFRecordWriter", "tf_record_iterator"]
