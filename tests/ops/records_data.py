"""tf.data's ops run whole pipelines, not array functions: the dataset and iterator tests check them
against values recorded from TensorFlow."""

RECORDS = []

_DATASETS = "tests/test_data_dataset.py"
_ITERATORS = "tests/test_data_iterators.py"
_FILES = "tests/test_data_files.py"
COVERED_ELSEWHERE = {
    **{op: _DATASETS for op in [
        "TensorDataset", "TensorSliceDataset", "RangeDataset", "ZipDataset", "ConcatenateDataset", "MapDataset",
        "ParallelMapDatasetV2", "FilterDataset", "FlatMapDataset", "InterleaveDataset", "TakeDataset", "SkipDataset",
        "RepeatDataset", "ShardDataset", "BatchDatasetV2", "PaddedBatchDatasetV2", "UnbatchDataset",
        "PrefetchDataset", "CacheDataset", "GeneratorDataset", "IgnoreErrorsDataset"]},
    **{op: _ITERATORS for op in [
        "ShuffleDataset", "IteratorV2", "OneShotIterator", "MakeIterator", "IteratorGetNext",
        "IteratorToStringHandle", "IteratorFromStringHandleV2"]},
    **{op: _FILES for op in ["TextLineDataset", "TFRecordDataset", "FixedLengthRecordDatasetV2"]},
}
