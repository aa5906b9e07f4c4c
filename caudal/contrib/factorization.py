"""`tf.contrib.factorization.KMeans` (TF 1.15's graph API), built from public ops.

`KMeans(inputs, num_clusters, ...).training_graph()` returns
`(all_scores, cluster_idx, scores, cluster_centers_initialized, init_op, training_op)`
as TF does: lists with one entry per input tensor of the [n, k] distances to
every center, the nearest center (int64) and the distance to it; the bool
variable `initialized`; the op that fills the variable `clusters` (run it
until `initialized` is true); and one Lloyd step (full batch: each center
becomes the mean of its points, or zero when it has none) or one mini-batch
step (each center moves by (sum of its new points - k * center) / (count + k)
and its count grows by k).

Initial centers: RANDOM_INIT draws `num_clusters` rows of the inputs
(with replacement; all rows when there are no more than that), a tensor
gives them, a function `f(inputs, num_remaining)` computes them. Distances:
SQUARED_EUCLIDEAN_DISTANCE, or COSINE_DISTANCE (1 - cosine, inputs and
centers L2-normalized). Not supported: KMEANS_PLUS_PLUS_INIT and KMC2_INIT
(TF's custom sampling ops) and `mini_batch_steps_per_iteration` > 1.
Random draws are caudal's, so RANDOM_INIT picks other rows than TF would.
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes
from caudal.framework.convert import convert_to_tensor
from caudal.framework.tensor import Tensor

__all__ = ["KMeans", "SQUARED_EUCLIDEAN_DISTANCE", "COSINE_DISTANCE", "RANDOM_INIT", "KMEANS_PLUS_PLUS_INIT",
           "KMC2_INIT", "CLUSTERS_VAR_NAME"]

SQUARED_EUCLIDEAN_DISTANCE = "squared_euclidean"
COSINE_DISTANCE = "cosine"
RANDOM_INIT = "random"
KMEANS_PLUS_PLUS_INIT = "kmeans_plus_plus"
KMC2_INIT = "kmc2"
CLUSTERS_VAR_NAME = "clusters"


class KMeans:
    """Builds the graph of k-means clustering of `inputs` (a [n, d] tensor or a list of them)."""

    def __init__(self, inputs: Any, num_clusters: Any, initial_clusters: Any = RANDOM_INIT,
                 distance_metric: str = SQUARED_EUCLIDEAN_DISTANCE, use_mini_batch: bool = False,
                 mini_batch_steps_per_iteration: int = 1, random_seed: int = 0,
                 kmeans_plus_plus_num_retries: int = 2, kmc2_chain_length: int = 200):
        if isinstance(initial_clusters, str) and initial_clusters not in (RANDOM_INIT, KMEANS_PLUS_PLUS_INIT,
                                                                          KMC2_INIT):
            raise ValueError(f"Unsupported initialization algorithm '{initial_clusters}'")
        if distance_metric not in (SQUARED_EUCLIDEAN_DISTANCE, COSINE_DISTANCE):
            raise ValueError(f"Unsupported distance metric '{distance_metric}'")
        if isinstance(initial_clusters, str) and initial_clusters in (KMEANS_PLUS_PLUS_INIT, KMC2_INIT):
            raise NotImplementedError(f"initial_clusters={initial_clusters!r} is not supported; use RANDOM_INIT, "
                                      f"a tensor or a function")
        if use_mini_batch and int(mini_batch_steps_per_iteration) > 1:
            raise NotImplementedError("mini_batch_steps_per_iteration > 1 is not supported")
        self._inputs = [convert_to_tensor(i) for i in (inputs if isinstance(inputs, list) else [inputs])]
        self._num_clusters = num_clusters
        self._initial_clusters = initial_clusters
        self._distance_metric = distance_metric
        self._use_mini_batch = use_mini_batch
        self._random_seed = random_seed

    # ----------------------------------------------------------- distances
    def _cosine(self) -> bool:
        return self._distance_metric == COSINE_DISTANCE

    def _clusters_l2_normalized(self) -> bool:
        """Whether the stored centers are kept normalized (cosine distance with full-batch steps)."""
        return self._cosine() and not self._use_mini_batch

    @staticmethod
    def _l2_normalize(tensor: Tensor) -> Tensor:
        from caudal.ops.normalization_ops import l2_normalize

        return l2_normalize(tensor, 1)

    def _distances(self, inp: Tensor, clusters: Tensor) -> Tensor:
        """[n, k]: squared Euclidean distances, or 1 - cosine for normalized rows."""
        from caudal.ops.array_ops import transpose
        from caudal.ops.math_ops import matmul, square
        from caudal.ops.reduction_ops import reduce_sum

        if self._cosine():
            return 1 - matmul(inp, clusters, transpose_b=True)
        return (reduce_sum(square(inp), 1, keepdims=True) - 2 * matmul(inp, clusters, transpose_b=True)
                + transpose(reduce_sum(square(clusters), 1, keepdims=True)))

    def _infer_graph(self, inputs: list[Tensor], clusters: Tensor) -> tuple[list, list, list]:
        from caudal.ops.reduction_ops import argmin, reduce_min

        if self._cosine() and not self._clusters_l2_normalized():
            clusters = self._l2_normalize(clusters)
        all_scores, scores, cluster_idx = [], [], []
        for inp in inputs:
            distances = self._distances(inp, clusters)
            all_scores.append(distances)
            scores.append(reduce_min(distances, 1))
            cluster_idx.append(argmin(distances, 1))
        return all_scores, scores, cluster_idx

    # ----------------------------------------------------------- variables
    def _create_variables(self, num_clusters: Tensor) -> tuple[Any, Any, Any]:
        from caudal.ops.constant_ops import ones, placeholder_with_default
        from caudal.variables import Variable

        init_value = placeholder_with_default([], shape=None)
        cluster_centers = Variable(init_value, name=CLUSTERS_VAR_NAME, validate_shape=False)
        initialized = Variable(False, dtype=dtypes.bool_, name="initialized")
        counts = Variable(ones([num_clusters], dtype=dtypes.int64)) if self._use_mini_batch else None
        return cluster_centers, initialized, counts

    # ------------------------------------------------------ initialization
    def _choose_initial_centers(self, num_remaining: Tensor, num_data: Tensor) -> Tensor:
        from caudal.ops.array_ops import concat, shape
        from caudal.ops.comparison_ops import equal, less_equal
        from caudal.ops.cond_ops import Assert, cond
        from caudal.ops.control_ops import with_dependencies
        from caudal.ops.math_ops import cast
        from caudal.ops.nn_ops import embedding_lookup
        from caudal.ops.random_ops import random_uniform

        if isinstance(self._initial_clusters, str):
            def random_rows() -> Tensor:
                indices = random_uniform([num_remaining], minval=0, maxval=cast(num_data, dtypes.int64),
                                         dtype=dtypes.int64, seed=self._random_seed)
                return embedding_lookup(self._inputs, indices, partition_strategy="div")

            return cond(less_equal(num_data, num_remaining), lambda: concat(self._inputs, 0), random_rows)
        if callable(self._initial_clusters):
            return convert_to_tensor(self._initial_clusters(self._inputs, num_remaining))
        given = convert_to_tensor(self._initial_clusters)
        check = Assert(equal(num_remaining, shape(given)[0]),
                       ["Condition x == y did not hold: num_remaining and the number of initial clusters differ"])
        return with_dependencies([check], given)

    def _init_op(self, num_clusters: Tensor, cluster_centers: Any, initialized: Any) -> Tensor:
        from caudal.ops.array_ops import concat, shape
        from caudal.ops.comparison_ops import equal
        from caudal.ops.cond_ops import Assert, cond
        from caudal.ops.control_ops import identity, with_dependencies
        from caudal.ops.math_ops import add_n
        from caudal.variables import assign

        num_data = add_n([shape(i)[0] for i in self._inputs])
        num_selected = shape(cluster_centers)[0]
        num_remaining = num_clusters - num_selected

        def already_initialized() -> Tensor:
            check = Assert(initialized, ["Condition x == y did not hold: the clusters are not initialized"])
            return with_dependencies([check], identity(initialized.value()))

        def initialize() -> Tensor:
            new_centers = self._choose_initial_centers(num_remaining, num_data)
            if self._cosine():
                new_centers = self._l2_normalize(new_centers)
            all_centers = cond(equal(num_selected, 0), lambda: new_centers,
                               lambda: concat([cluster_centers.value(), new_centers], 0))
            assigned = assign(cluster_centers, all_centers, validate_shape=False)
            now_remaining = num_clusters - shape(assigned)[0]
            return cond(equal(now_remaining, 0), lambda: assign(initialized, True),
                        lambda: identity(initialized.value()))

        return cond(equal(num_remaining, 0), already_initialized, initialize)

    # ------------------------------------------------------------ training
    def _full_batch_training_op(self, inputs: list[Tensor], num_clusters: Tensor, cluster_idx: list,
                                cluster_centers: Any) -> Tensor:
        from caudal.ops.array_ops import reshape, shape
        from caudal.ops.constant_ops import constant, ones
        from caudal.ops.gather_ops import unsorted_segment_sum
        from caudal.ops.math_ops import add_n, cast
        from caudal.variables import assign

        epsilon = constant(1e-6, dtype=inputs[0].dtype.base_dtype)
        sums, counts = [], []
        for inp, idx in zip(inputs, cluster_idx):
            sums.append(unsorted_segment_sum(inp, idx, num_clusters))
            counts.append(unsorted_segment_sum(reshape(ones(reshape(shape(inp)[0], [-1])), [-1, 1]), idx,
                                               num_clusters))
        new_centers = add_n(sums) / (cast(add_n(counts), sums[0].dtype.base_dtype) + epsilon)
        if self._clusters_l2_normalized():
            new_centers = self._l2_normalize(new_centers)
        return assign(cluster_centers, new_centers)

    def _mini_batch_training_op(self, inputs: list[Tensor], cluster_idx: list, cluster_centers: Any,
                                total_counts: Any) -> Any:
        from caudal.ops.array_ops import concat, rank, reshape, size
        from caudal.ops.constant_ops import ones, ones_like
        from caudal.ops.control_ops import group
        from caudal.ops.gather_ops import gather, unsorted_segment_sum
        from caudal.ops.math_ops import cast
        from caudal.ops.sort_ops import unique
        from caudal.ops.special_math_ops import reciprocal
        from caudal.ops.state_ops import scatter_add

        updates = []
        for inp, idx in zip(inputs, cluster_idx):
            idx = reshape(idx, [-1])
            unique_ids, unique_idx = unique(idx)
            num_unique = size(unique_ids)
            old_counts = gather(total_counts.value(), unique_ids)
            old_centers = gather(cluster_centers.value(), unique_ids)
            count_updates = unsorted_segment_sum(ones_like(unique_idx, dtype=dtypes.int64), unique_idx, num_unique)
            center_updates = unsorted_segment_sum(inp, unique_idx, num_unique)
            broadcast_shape = concat([reshape(num_unique, [1]),
                                      ones(reshape(rank(inp) - 1, [1]), dtype=dtypes.int32)], 0)
            center_updates -= cast(reshape(count_updates, broadcast_shape), inp.dtype.base_dtype) * old_centers
            learning_rate = reshape(reciprocal(cast(old_counts + count_updates, inp.dtype.base_dtype)),
                                    broadcast_shape)
            center_updates *= learning_rate
            updates.append(scatter_add(total_counts, unique_ids, count_updates))
            updates.append(scatter_add(cluster_centers, unique_ids, center_updates))
        return group(*updates)

    def training_graph(self) -> tuple[list, list, list, Any, Tensor, Any]:
        """(all_scores, cluster_idx, scores, cluster_centers_initialized, init_op, training_op)."""
        from caudal.ops.array_ops import shape

        if isinstance(self._initial_clusters, str) or callable(self._initial_clusters):
            num_clusters = convert_to_tensor(self._num_clusters)
        else:
            num_clusters = shape(convert_to_tensor(self._initial_clusters))[0]
        cluster_centers, initialized, counts = self._create_variables(num_clusters)
        init_op = self._init_op(num_clusters, cluster_centers, initialized)
        inputs = self._inputs
        centers: Any = cluster_centers
        if self._cosine():
            inputs = [self._l2_normalize(i) for i in inputs]
            if not self._clusters_l2_normalized():
                centers = self._l2_normalize(cluster_centers.value())
        all_scores, scores, cluster_idx = self._infer_graph(inputs, centers.value() if centers is cluster_centers
                                                            else centers)
        if self._use_mini_batch:
            training_op = self._mini_batch_training_op(inputs, cluster_idx, cluster_centers, counts)
        else:
            training_op = self._full_batch_training_op(inputs, num_clusters, cluster_idx, cluster_centers)
        return all_scores, cluster_idx, scores, initialized, init_op, training_op
