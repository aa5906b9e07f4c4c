"""Queues, readers, accumulators and CountUpTo keep state across runs and block: their tests run programs, not array
functions, and compare them with values and messages recorded from TensorFlow."""

RECORDS = []

_QUEUES = "tests/test_queues.py and tests/test_queue_fixtures.py"
_READERS = "tests/test_readers.py and tests/test_queue_fixtures.py"
COVERED_ELSEWHERE = {
    **{op: _QUEUES for op in [
        "FIFOQueueV2", "PaddingFIFOQueueV2", "RandomShuffleQueueV2", "PriorityQueueV2", "QueueEnqueueV2",
        "QueueEnqueueManyV2", "QueueDequeueV2", "QueueDequeueManyV2", "QueueDequeueUpToV2", "QueueCloseV2",
        "QueueSizeV2", "QueueIsClosedV2"]},
    **{op: _READERS for op in [
        "WholeFileReaderV2", "TextLineReaderV2", "FixedLengthRecordReaderV2", "TFRecordReaderV2", "IdentityReaderV2",
        "ReaderReadV2", "ReaderReadUpToV2", "ReaderNumRecordsProducedV2", "ReaderNumWorkUnitsCompletedV2",
        "ReaderSerializeStateV2", "ReaderRestoreStateV2", "ReaderResetV2"]},
    "CountUpTo": "tests/test_input_producers.py and tests/test_queue_fixtures.py (count_up_to)",
    **{op: "tests/test_accumulators.py and tests/test_queue_fixtures.py (accumulators)" for op in [
        "ResourceConditionalAccumulator", "ResourceAccumulatorApplyGradient", "ResourceAccumulatorTakeGradient",
        "ResourceAccumulatorNumAccumulated", "ResourceAccumulatorSetGlobalStep"]},
}
