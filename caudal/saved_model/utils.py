"""`tf.saved_model.utils`: TensorInfo protos for the tensors of a signature, and back."""
from __future__ import annotations

from typing import Any

from caudal.framework.graph import get_default_graph
from caudal.proto import meta_graph_pb2

__all__ = ["build_tensor_info", "get_tensor_from_tensor_info"]


def build_tensor_info(tensor: Any) -> meta_graph_pb2.TensorInfo:
    """The TensorInfo of a Tensor (its name, dtype and static shape) or of a SparseTensor (coo_sparse)."""
    info = meta_graph_pb2.TensorInfo(dtype=tensor.dtype.base_dtype.as_datatype_enum)
    if hasattr(tensor, "dense_shape"):
        info.coo_sparse.indices_tensor_name = tensor.indices.name
        info.coo_sparse.values_tensor_name = tensor.values.name
        info.coo_sparse.dense_shape_tensor_name = tensor.dense_shape.name
    else:
        info.name = tensor.name
    shape = tensor.shape
    if shape.ndims is None:
        info.tensor_shape.unknown_rank = True
    else:
        for dim in shape.as_list():
            info.tensor_shape.dim.add(size=-1 if dim is None else dim)
    return info


def get_tensor_from_tensor_info(tensor_info: meta_graph_pb2.TensorInfo, graph: Any = None,
                                import_scope: str | None = None) -> Any:
    """The Tensor (or SparseTensor) a TensorInfo names in `graph` (default: the default graph)."""
    graph = graph if graph is not None else get_default_graph()

    def tensor(name: str) -> Any:
        return graph.get_tensor_by_name(f"{import_scope}/{name}" if import_scope else name)

    encoding = tensor_info.WhichOneof("encoding")
    if encoding == "name":
        return tensor(tensor_info.name)
    if encoding == "coo_sparse":
        from caudal.framework.sparse_tensor import SparseTensor

        sparse = tensor_info.coo_sparse
        return SparseTensor(tensor(sparse.indices_tensor_name), tensor(sparse.values_tensor_name),
                            tensor(sparse.dense_shape_tensor_name))
    raise ValueError(f"Invalid TensorInfo.encoding: {encoding}")
