"""Op definitions, one module per family. Importing this package registers every op, and the
builders the framework reaches through hooks (Tensor's operators, constants of Python values).
Families most programs never use register lazily: their module loads when one of their op
types is first needed (the lists below are checked against the modules by tests)."""
from caudal.framework.registry import register_lazily
from caudal.ops import (  # noqa: F401 - imported to register the ops
    _broadcast,
    array_ops,
    checkpoint_ops,
    clip_ops,
    comparison_ops,
    cond_ops,
    constant_ops,
    control_ops,
    conv_ops,
    debug_ops,
    gather_ops,
    index_ops,
    linalg_ops,
    manip_ops,
    math_ops,
    nn_activation_ops,
    nn_loss_ops,
    nn_ops,
    normalization_ops,
    operators,
    pooling_ops,
    random_ops,
    reduction_extra_ops,
    reduction_ops,
    scan_ops,
    sequence_ops,
    slicing_ops,
    sort_ops,
    special_math_ops,
    summary_ops,
    training_ops,
    variable_ops,
    while_ops,
)

register_lazily("caudal.ops.tensor_array_ops", [
    "TensorArrayV3", "TensorArrayWriteV3", "TensorArrayReadV3", "TensorArrayGatherV3", "TensorArrayScatterV3",
    "TensorArrayConcatV3", "TensorArraySplitV3", "TensorArraySizeV3", "TensorArrayCloseV3", "TensorArrayGradV3",
    "TensorArrayGradWithShape"])
register_lazily("caudal.ops.stack_ops", ["StackV2", "StackPushV2", "StackPopV2", "StackCloseV2", "ControlTrigger"])
register_lazily("caudal.ops.list_ops", ["EmptyTensorList", "TensorListPushBack", "TensorListPopBack",
                                        "TensorListLength", "TensorListStack"])
register_lazily("caudal.ops.candidate_sampling_ops", ["LogUniformCandidateSampler", "UniformCandidateSampler",
                                                      "ComputeAccidentalHits"])
register_lazily("caudal.ops.state_ops", ["ScatterAdd", "ScatterSub", "ScatterUpdate"])
register_lazily("caudal.ops.sparse_training_ops", [
    "SparseApplyMomentum", "SparseApplyAdagrad", "SparseApplyAdadelta", "SparseApplyRMSProp",
    "SparseApplyCenteredRMSProp", "SparseApplyFtrl", "SparseApplyFtrlV2", "SparseApplyProximalGradientDescent",
    "SparseApplyProximalAdagrad"])
register_lazily("caudal.ops.sparse_ops", ["SparseToDense", "SparseReorder"])
register_lazily("caudal.ops.parsing_ops", ["ParseExampleV2", "ParseSequenceExampleV2"])
register_lazily("caudal.ops.decode_ops", ["DecodeRaw", "DecodeCSV", "SerializeTensor", "ParseTensor"])
register_lazily("caudal.ops.string_ops", ["StringSplit", "StringSplitV2", "StringToNumber", "StringLength"])
register_lazily("caudal.ops.regex_ops", ["RegexFullMatch", "StaticRegexReplace", "RegexReplace"])
register_lazily("caudal.ops.image_codec_ops", ["DecodePng", "DecodeJpeg", "DecodeGif", "DecodeBmp", "DecodeImage",
                                               "EncodePng", "EncodeJpeg"])
register_lazily("caudal.ops.image_resize_ops", ["ResizeBilinear", "ResizeNearestNeighbor", "ResizeBicubic",
                                                "ResizeArea", "ResizeBilinearGrad", "ResizeNearestNeighborGrad",
                                                "ResizeBicubicGrad"])
register_lazily("caudal.ops.image_adjust_ops", ["AdjustContrastv2"])
register_lazily("caudal.ops.io_ops", ["ReadFile", "WriteFile", "MatchingFiles"])
register_lazily("caudal.ops.script_ops", ["PyFunc", "PyFuncStateless"])
register_lazily("caudal.ops.categorical_ops", ["StringToHashBucketFast", "AsString", "Bucketize", "SparseCross"])
register_lazily("caudal.ops.sparse_rows_ops", ["SparseReshape", "SparseFillEmptyRows", "SparseFillEmptyRowsGrad"])
register_lazily("caudal.ops.sparse_segment_ops", ["SparseSegmentSum", "SparseSegmentMean", "SparseSegmentSqrtN",
                                                  "SparseSegmentSumGrad", "SparseSegmentMeanGrad",
                                                  "SparseSegmentSqrtNGrad", "DivNoNan"])
register_lazily("caudal.ops.lookup_ops", ["HashTableV2", "LookupTableImportV2", "InitializeTableFromTextFileV2",
                                          "LookupTableFindV2", "LookupTableSizeV2"])
register_lazily("caudal.ops.queue_ops", ["FIFOQueueV2", "PaddingFIFOQueueV2", "RandomShuffleQueueV2", "PriorityQueueV2",
                                         "QueueEnqueueV2", "QueueEnqueueManyV2", "QueueDequeueV2", "QueueDequeueManyV2",
                                         "QueueDequeueUpToV2", "QueueCloseV2", "QueueSizeV2", "QueueIsClosedV2"])
register_lazily("caudal.ops.reader_ops", ["WholeFileReaderV2", "TextLineReaderV2", "FixedLengthRecordReaderV2",
                                          "TFRecordReaderV2", "IdentityReaderV2", "ReaderReadV2", "ReaderReadUpToV2",
                                          "ReaderNumRecordsProducedV2", "ReaderNumWorkUnitsCompletedV2",
                                          "ReaderSerializeStateV2", "ReaderRestoreStateV2", "ReaderResetV2"])
register_lazily("caudal.ops.counter_ops", ["CountUpTo"])
register_lazily("caudal.ops.accumulator_ops", ["ResourceConditionalAccumulator", "ResourceAccumulatorApplyGradient",
                                               "ResourceAccumulatorTakeGradient", "ResourceAccumulatorNumAccumulated",
                                               "ResourceAccumulatorSetGlobalStep"])
register_lazily("caudal.ops.sendrecv_ops", ["_Send", "_Recv"])
