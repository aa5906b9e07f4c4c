"""`tf.summary` (TF1): summary ops, FileWriter, and the Summary/Event protos. Re-exports only."""
from caudal.ops.summary_ops import (
    audio,
    histogram,
    image,
    merge,
    merge_all,
    scalar,
    tensor_summary,
    text,
)
from caudal.proto.event_pb2 import Event, SessionLog, TaggedRunMetadata
from caudal.proto.summary_pb2 import Summary, SummaryDescription, SummaryMetadata
from caudal.summary.writer import FileWriter, FileWriterCache, summary_iterator

__all__ = ["scalar", "histogram", "image", "audio", "text", "tensor_summary", "merge", "merge_all",
           "FileWriter", "FileWriterCache", "Summary", "SummaryDescription", "SummaryMetadata", "Event",
           "SessionLog", "TaggedRunMetadata", "summary_iterator"]
