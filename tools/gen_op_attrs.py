"""Regenerates caudal/framework/op_attrs.py: TensorFlow's attr names, types and defaults.

Run with a TensorFlow installation (never a dependency of caudal):

    /path/to/tf/bin/python tools/gen_op_attrs.py

The table covers every op type caudal registers plus the common TF1 op types
listed in EXTRA_OPS. GraphDef import uses it to fill in attrs a file leaves
at their defaults, and export uses it to write each attr with TF's type.
"""
from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

EXTRA_OPS = """
Add AddV2 Sub Mul Div RealDiv DivNoNan TruncateDiv TruncateMod FloorDiv FloorMod SquaredDifference Atan2 Xdivy
Xlogy Floor Ceil Round Rint Reciprocal Inv Log1p Expm1 Sin Cos Tan Asin Acos Atan Sinh Cosh Asinh Acosh Atanh Erf
Erfc Lgamma Digamma IsNan IsInf IsFinite Softplus Softsign Relu Relu6 Elu Selu LeakyRelu ReluGrad Relu6Grad
EluGrad SeluGrad LeakyReluGrad SoftplusGrad SoftsignGrad RsqrtGrad SqrtGrad ReciprocalGrad BiasAdd BiasAddGrad
BiasAddV1 Conv2D Conv2DBackpropInput Conv2DBackpropFilter Conv3D DepthwiseConv2dNative
DepthwiseConv2dNativeBackpropInput DepthwiseConv2dNativeBackpropFilter MaxPool MaxPoolV2 MaxPoolGrad AvgPool
AvgPoolGrad MaxPool3D AvgPool3D LRN LRNGrad FusedBatchNorm FusedBatchNormV3 FusedBatchNormGrad
FusedBatchNormGradV3 SoftmaxCrossEntropyWithLogits SparseSoftmaxCrossEntropyWithLogits L2Loss InTopKV2 TopKV2
Tile TileGrad Gather GatherV2 GatherNd ScatterNd ReverseV2 Split SplitV MirrorPad PadV2 SpaceToDepth DepthToSpace
SpaceToBatchND BatchToSpaceND ClipByValue Cumsum Cumprod Unique SegmentSum SegmentMean SegmentMax SegmentMin
UnsortedSegmentMax UnsortedSegmentMin UnsortedSegmentProd Bincount MatrixInverse MatrixDeterminant Cholesky Qr
Svd MatrixSolve MatrixTriangularSolve MatrixDiag MatrixDiagPart MatrixBandPart BatchMatMul BatchMatMulV3
Einsum Diag DiagPart Trace Cross ResizeBilinear ResizeNearestNeighbor Multinomial RandomShuffle RandomGamma
RandomPoisson RandomPoissonV2 Enter Exit NextIteration LoopCond ControlTrigger Snapshot CheckNumerics Print
PrintV2 StringFormat ScatterUpdate ScatterAdd ScatterSub ScatterMul ScatterDiv ScatterNdUpdate
ScatterNdAdd SaveV2 RestoreV2 MergeV2Checkpoints ShardedFilename ShardedFilespec StringJoin ScalarSummary
HistogramSummary ImageSummary AudioSummary MergeSummary TensorSummaryV2 Real Imag Complex Conj Angle
EuclideanNorm Where ListDiff Reverse Transpose ConjugateTranspose InvertPermutation LinSpace ZerosLike OnesLike
Empty Fill Square Abs Neg Sign Exp Log Sqrt Rsqrt Sigmoid Tanh Softmax LogSoftmax Identity IdentityN NoOp
StopGradient PreventGradient Placeholder PlaceholderV2 PlaceholderWithDefault Const VariableV2 Variable
Assign AssignAdd AssignSub IsVariableInitialized Cast Bitcast MatMul Max Min Sum Mean Prod All Any ArgMax
ArgMin Reshape ExpandDims Squeeze Shape ShapeN Size Rank Range Pack Unpack ConcatV2 Concat ConcatOffset
BroadcastTo BroadcastArgs BroadcastGradientArgs Slice StridedSlice StridedSliceGrad Pad OneHot Select SelectV2
Equal NotEqual Less LessEqual Greater GreaterEqual LogicalAnd LogicalOr LogicalNot Maximum Minimum Pow AddN
Switch Merge RefSwitch RefMerge Assert RandomStandardNormal RandomUniform RandomUniformInt TruncatedNormal
ApplyGradientDescent ApplyMomentum ApplyAdam ApplyAdagrad ApplyAdadelta ApplyRMSProp ApplyCenteredRMSProp
ApplyFtrl ApplyFtrlV2 ApplyProximalAdagrad ApplyProximalGradientDescent SigmoidGrad TanhGrad
UnsortedSegmentSum ParallelDynamicStitch DynamicStitch DynamicPartition SparseToDense Cross MaxPoolGradGrad
MirrorPadGrad AvgPoolGrad MaxPoolGradV2 LogMatrixDeterminant MatrixSolveLs SelfAdjointEigV2 Dilation2D
Conv3DBackpropInputV2 Conv3DBackpropFilterV2 ResizeBilinearGrad ResizeNearestNeighborGrad CropAndResize
NonMaxSuppressionV3 SparseMatMul
SoftmaxGrad Relu6 Betainc Igamma Igammac Zeta Polygamma Sqrt BroadcastArgs Ceil StringToNumber AsString
RandomGammaGrad ParameterizedTruncatedNormal StatelessRandomNormal StatelessRandomUniform DeepCopy
InplaceUpdate TensorScatterUpdate TensorScatterAdd ReverseSequence Roll CumulativeLogsumexp
""".split()


def _default(attr) -> object:
    from tensorflow.python.framework import dtypes, tensor_shape, tensor_util

    v = attr.default_value
    kind = v.WhichOneof("value")
    if kind == "list":
        lst = v.list
        if attr.type == "list(type)":
            return [dtypes.as_dtype(t).name for t in lst.type]
        if attr.type == "list(shape)":
            return [tensor_shape.TensorShape(s).as_list() if not s.unknown_rank else None for s in lst.shape]
        if attr.type == "list(string)":
            return [s.decode() for s in lst.s]
        for field in ("i", "f", "b"):
            if getattr(lst, field):
                return list(getattr(lst, field))
        return []
    if kind == "type":
        return dtypes.as_dtype(v.type).name
    if kind == "shape":
        return None if v.shape.unknown_rank else tensor_shape.TensorShape(v.shape).as_list()
    if kind == "s":
        return v.s.decode()
    if kind == "tensor":
        return tensor_util.MakeNdarray(v.tensor).tolist()
    return getattr(v, kind)


def main() -> None:
    from tensorflow.python.framework import op_def_registry

    import caudal  # noqa: F401 - registers caudal's ops
    import caudal.nn  # noqa: F401
    import caudal.train  # noqa: F401
    from caudal.framework.registry import registered_op_types

    names = sorted(set(registered_op_types()) | set(EXTRA_OPS))
    lines = []
    for name in names:
        op_def = op_def_registry.get(name)
        if op_def is None:
            continue
        entries = []
        for attr in op_def.attr:
            if attr.HasField("default_value"):
                entries.append(f"{attr.name!r}: ({attr.type!r}, {_default(attr)!r})")
            else:
                entries.append(f"{attr.name!r}: ({attr.type!r},)")
        lines.append(f"    {name!r}: {{{', '.join(entries)}}},")
    header = '''"""TensorFlow's attrs of the op types caudal knows: name -> (type,) or (type, default).

Generated by tools/gen_op_attrs.py from TensorFlow's op registry; do not edit.
Types are TF's attr type strings ("type", "list(int)", "shape", ...);
defaults are Python values (dtype names for types, lists or None for shapes).
"""
# ruff: noqa: E501

OP_ATTRS: dict[str, dict[str, tuple]] = {
'''
    with open(os.path.join(ROOT, "caudal", "framework", "op_attrs.py"), "w") as f:
        f.write(header + "\n".join(lines) + "\n}\n")
    print(f"{len(lines)} op types")


if __name__ == "__main__":
    main()
