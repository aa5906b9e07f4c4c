"""tf.nn.embedding_lookup on partitioned tables, the candidate samplers, nce_loss and
sampled_softmax_loss, against TensorFlow 2.21's numbers (recorded once, stored below)."""
import numpy as np
import pytest

import caudal as tf
from caudal.errors import InvalidArgumentError


# ------------------------------------------------------------------ embedding_lookup
def lookup_case(strategy, max_norm):
    """11 rows of a table in 3 uneven partitions (4, 4, 3); values, and gradients of a weighted sum."""
    full = np.arange(22, dtype=np.float64).reshape(11, 2) * 0.5 - 3
    if strategy == "mod":
        rows = [[i for i in range(11) if i % 3 == p] for p in range(3)]
    else:
        rows = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]
    with tf.Graph().as_default():
        parts = [tf.Variable(full[r]) for r in rows]
        ids = tf.constant([[10, 0], [3, 7], [3, 5]])
        out = tf.nn.embedding_lookup(parts, ids, partition_strategy=strategy, max_norm=max_norm, name="look")
        assert out.op.name.startswith("look")
        weights = np.linspace(-1.0, 2.0, 12).reshape(3, 2, 2)
        grads = [tf.convert_to_tensor(g) for g in tf.gradients(tf.reduce_sum(out * weights), parts)]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return sess.run([out] + grads)


# TF's values (the same for both strategies: the partitions hold the same table) and gradients.
TF_LOOKUP = [[[7.0, 7.5], [-3.0, -2.5]], [[0.0, 0.5], [4.0, 4.5]], [[0.0, 0.5], [2.0, 2.5]]]
TF_LOOKUP_CLIPPED = [[[2.7292730014, 2.924221073], [-3.0, -2.5]], [[0.0, 0.5], [2.6574553553, 2.9896372747]],
                     [[0.0, 0.5], [2.0, 2.5]]]
TF_LOOKUP_GRADS = {
    ("mod", None): [[[-0.4545454545, -0.1818181818], [1.2727272727, 1.8181818182], [0.0, 0.0], [0.0, 0.0]],
                    [[0.0, 0.0], [0.0, 0.0], [0.6363636364, 0.9090909091], [-1.0, -0.7272727273]],
                    [[0.0, 0.0], [1.7272727273, 2.0], [0.0, 0.0]]],
    ("mod", 4.0): [[[-0.4545454545, -0.1818181818], [1.2727272727, 1.8181818182], [0.0, 0.0], [0.0, 0.0]],
                   [[0.0, 0.0], [0.0, 0.0], [-0.063728945, 0.0566479511], [-0.0669331535, 0.0624709432]],
                   [[0.0, 0.0], [1.7272727273, 2.0], [0.0, 0.0]]],
    ("div", None): [[[-0.4545454545, -0.1818181818], [0.0, 0.0], [0.0, 0.0], [1.2727272727, 1.8181818182]],
                    [[0.0, 0.0], [1.7272727273, 2.0], [0.0, 0.0], [0.6363636364, 0.9090909091]],
                    [[0.0, 0.0], [0.0, 0.0], [-1.0, -0.7272727273]]],
    ("div", 4.0): [[[-0.4545454545, -0.1818181818], [0.0, 0.0], [0.0, 0.0], [1.2727272727, 1.8181818182]],
                   [[0.0, 0.0], [1.7272727273, 2.0], [0.0, 0.0], [-0.063728945, 0.0566479511]],
                   [[0.0, 0.0], [0.0, 0.0], [-0.0669331535, 0.0624709432]]],
}


@pytest.mark.parametrize("strategy,max_norm", list(TF_LOOKUP_GRADS))
def test_partitioned_lookup_matches_tf(strategy, max_norm):
    out, *grads = lookup_case(strategy, max_norm)
    np.testing.assert_allclose(out, TF_LOOKUP if max_norm is None else TF_LOOKUP_CLIPPED, atol=1e-9)
    for got, want in zip(grads, TF_LOOKUP_GRADS[strategy, max_norm]):
        np.testing.assert_allclose(got, want, atol=1e-9)


def test_partitioned_lookup_with_unknown_partition_sizes():
    table = np.arange(14.0).reshape(7, 2)
    with tf.Graph().as_default():
        feeds = [tf.placeholder(tf.float64, [None, 2]) for _ in range(3)]
        out = tf.nn.embedding_lookup(feeds, [6, 1, 3, 5])
        with tf.Session() as sess:
            got = sess.run(out, {f: table[p::3] for p, f in enumerate(feeds)})
    np.testing.assert_array_equal(got, table[[6, 1, 3, 5]])


# ------------------------------------------------------------------ candidate samplers
def _sample(sampler, true_classes, num_sampled, unique, range_max, seed=3, runs=1):
    with tf.Graph().as_default():
        out = sampler(tf.constant(true_classes, tf.int64), len(true_classes[0]), num_sampled, unique, range_max,
                      seed=seed)
        with tf.Session() as sess:
            return [sess.run(out) for _ in range(runs)]


def test_sampler_ops_and_outputs():
    with tf.Graph().as_default():
        tc = tf.placeholder(tf.int64, [None, 2])
        sampled, true_exp, sampled_exp = tf.nn.log_uniform_candidate_sampler(tc, 2, 5, True, 50, seed=1)
        op = sampled.op
        assert op.type == "LogUniformCandidateSampler"
        assert {k: op.get_attr(k) for k in ("num_true", "num_sampled", "unique", "range_max")} == \
            {"num_true": 2, "num_sampled": 5, "unique": True, "range_max": 50}
        assert op.get_attr("seed2") == 1
        assert (sampled.dtype, true_exp.dtype, sampled_exp.dtype) == (tf.int64, tf.float32, tf.float32)
        assert sampled.shape.as_list() == [5] and true_exp.shape.as_list() == [None, 2]
        u = tf.nn.uniform_candidate_sampler(tc, 2, 5, False, 50)
        assert u[0].op.type == "UniformCandidateSampler"


def _log_uniform_p(k, range_max):
    k = np.asarray(k, np.float64)
    return (np.log(k + 2) - np.log(k + 1)) / np.log(range_max + 1)


def test_log_uniform_distribution_and_counts_without_unique():
    runs = _sample(tf.nn.log_uniform_candidate_sampler, [[0, 7]], 4000, False, 30, runs=3)
    draws = np.concatenate([r[0] for r in runs])
    assert draws.min() >= 0 and draws.max() < 30
    freq = np.bincount(draws, minlength=30) / draws.size
    np.testing.assert_allclose(freq, _log_uniform_p(np.arange(30), 30), atol=0.01)
    sampled, true_exp, sampled_exp = runs[0]
    np.testing.assert_allclose(true_exp, [_log_uniform_p([0, 7], 30) * 4000], rtol=1e-6)
    np.testing.assert_allclose(sampled_exp, _log_uniform_p(sampled, 30) * 4000, rtol=1e-6)
    assert not np.array_equal(runs[0][0], runs[1][0])  # the stream goes on between runs


def test_uniform_distribution():
    (sampled, true_exp, sampled_exp), = _sample(tf.nn.uniform_candidate_sampler, [[1]], 20000, False, 10)
    np.testing.assert_allclose(np.bincount(sampled, minlength=10) / 20000, 0.1, atol=0.01)
    np.testing.assert_allclose(true_exp, [[2000.0]])
    np.testing.assert_allclose(sampled_exp, 2000.0)


def _num_tries(expected, p):
    """The number of draws for which 1 - (1 - p) ** tries gives `expected`."""
    return np.log1p(-np.asarray(expected, np.float64)) / np.log1p(-np.asarray(p, np.float64))


def test_unique_samples_and_expected_counts():
    for seed in range(5):
        (sampled, true_exp, sampled_exp), = _sample(tf.nn.log_uniform_candidate_sampler, [[0, 3], [17, 19]], 8,
                                                    True, 100, seed=seed)
        assert len(set(sampled.tolist())) == 8
        p_true, p_sampled = _log_uniform_p([[0, 3], [17, 19]], 100), _log_uniform_p(sampled, 100)
        if np.allclose(sampled_exp, p_sampled * 8, rtol=1e-6):
            continue  # eight distinct values in eight draws: TF's p * num_sampled
        tries = np.concatenate([_num_tries(true_exp, p_true).ravel(), _num_tries(sampled_exp, p_sampled)])
        assert np.allclose(tries, np.round(tries[0]), rtol=1e-3) and round(tries[0]) > 8


def test_unique_expected_counts_follow_tf():
    """TF's output for true classes [[0, 3], [17, 19]], 8 unique samples of 100 (seed 5): its
    expected counts are 1 - (1 - p) ** 9 for all, i.e. 9 tries; the same formula here."""
    tf_sampled = [0, 10, 24, 21, 13, 3, 66, 80]
    tf_true = [[0.768849790096283, 0.359833300113678], [0.10062894225120544, 0.09122049063444138]]
    tf_sampled_exp = [0.768849790096283, 0.15743279457092285, 0.07393570989370346, 0.08342012763023376,
                      0.12677288055419922, 0.359833300113678, 0.028522862121462822, 0.023675156757235527]
    np.testing.assert_allclose(_num_tries(tf_true, _log_uniform_p([[0, 3], [17, 19]], 100)), 9, rtol=1e-4)
    np.testing.assert_allclose(_num_tries(tf_sampled_exp, _log_uniform_p(tf_sampled, 100)), 9, rtol=1e-4)
    # A uniform sampler over 20 classes that needed 8 tries for 8 classes: TF gives p * 8 = 0.4.
    (sampled, true_exp, sampled_exp), = _sample(tf.nn.uniform_candidate_sampler, [[0, 3]], 20, True, 20)
    assert sorted(sampled.tolist()) == list(range(20))
    assert np.all(true_exp < 1.0) and np.all(true_exp > 0.0)
    np.testing.assert_allclose(sampled_exp, true_exp[0, 0])


def test_sampler_errors():
    with pytest.raises(InvalidArgumentError, match="range is too small"):
        _sample(tf.nn.uniform_candidate_sampler, [[0]], 11, True, 10)
    with pytest.raises(InvalidArgumentError, match=r"out of range \[0, 100\), received 150"):
        _sample(tf.nn.log_uniform_candidate_sampler, [[150]], 8, True, 100)
    with tf.Graph().as_default(), pytest.raises(ValueError, match="rank 2"):
        tf.nn.log_uniform_candidate_sampler(tf.constant([1, 2], tf.int64), 1, 3, True, 10)


def test_seeded_samplers_repeat_in_a_new_session():
    first = _sample(tf.nn.log_uniform_candidate_sampler, [[1]], 10, True, 1000, seed=9)[0][0]
    again = _sample(tf.nn.log_uniform_candidate_sampler, [[1]], 10, True, 1000, seed=9)[0][0]
    np.testing.assert_array_equal(first, again)


# ------------------------------------------------------------------ nce_loss, sampled_softmax_loss
def loss_case(kind, num_true, remove_hits, partitioned, strategy="mod", fetch=True):
    """Losses and gradients of nce_loss / sampled_softmax_loss with fixed sampled values."""
    rs = np.random.RandomState(7)
    classes, dim, batch = 10, 3, 4
    w, b, x = rs.randn(classes, dim), rs.randn(classes), rs.randn(batch, dim)
    labels = np.array([[1, 4], [0, 9], [4, 5], [7, 2]])[:, :num_true]
    sampled = np.array([4, 8, 0, 3, 5], dtype=np.int64)
    true_exp = rs.uniform(0.2, 0.9, size=(batch, num_true))
    samp_exp = rs.uniform(0.2, 0.9, size=5)
    if partitioned:
        if strategy == "mod":
            parts = [[i for i in range(classes) if i % 3 == p] for p in range(3)]
        else:
            parts = [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
        weights, biases = [tf.constant(w[r]) for r in parts], [tf.constant(b[r]) for r in parts]
    else:
        weights, biases = [tf.constant(w)], [tf.constant(b)]
    inputs = tf.constant(x)
    values = (tf.constant(sampled), tf.constant(true_exp), tf.constant(samp_exp))
    fn = tf.nn.nce_loss if kind == "nce" else tf.nn.sampled_softmax_loss
    loss = fn(weights if partitioned else weights[0], biases if partitioned else biases[0], labels, inputs,
              num_sampled=5, num_classes=classes, num_true=num_true, sampled_values=values,
              remove_accidental_hits=remove_hits, partition_strategy=strategy)
    if not fetch:
        return loss, inputs, weights, biases
    grads = tf.gradients(tf.reduce_sum(loss * np.arange(1.0, batch + 1)), [inputs] + weights + biases)
    with tf.Session() as sess:
        return sess.run([loss] + [tf.convert_to_tensor(g) for g in grads])


# TF's loss and input gradient per case (all gradients for three of them), keyed by
# (kind, num_true, remove_accidental_hits, partitioned, partition_strategy).
TF_LOSSES = {('nce', 1, False, False, 'mod'): [[6.1385191373, 10.0880664733, 3.5546812022, 2.9486544276],
                                   [[1.448314071, -2.0282983902, -0.5250437575],
                                    [-1.5049182451, -3.2175536068, -1.1556646916],
                                    [-1.4735402737, -1.1501342269, 0.0822414125],
                                    [-3.3915801305, -1.811992587, -1.6236561064]],
                                   [[1.43535458, 3.9301665271, 2.3893565366],
                                    [-0.1299891218, 0.0278284158, -0.0878303154], [0.0, 0.0, 0.0],
                                    [-0.8050472057, 1.7634139223, -1.9896014225],
                                    [-1.0961633395, -4.5360074132, -1.2229743181],
                                    [-1.4660926842, 8.7082944607, -0.0384076891], [0.0, 0.0, 0.0],
                                    [0.2503820382, -0.91256379, -0.1132588579],
                                    [-1.3188434264, 2.4816370474, -2.3209719437], [0.0, 0.0, 0.0]],
                                   [0.9244092653, -0.1546139908, 0.0, 4.7260003588, -0.8306069547, 5.8471760173,
                                    0.0, -0.4772776085, 5.9200216822, 0.0]],
 ('nce', 1, False, True, 'div'): [[6.1385191373, 10.0880664733, 3.5546812022, 2.9486544276],
                                  [[1.448314071, -2.0282983902, -0.5250437575],
                                   [-1.5049182451, -3.2175536068, -1.1556646916],
                                   [-1.4735402737, -1.1501342269, 0.0822414125],
                                   [-3.3915801305, -1.811992587, -1.6236561064]]],
 ('nce', 1, False, True, 'mod'): [[6.1385191373, 10.0880664733, 3.5546812022, 2.9486544276],
                                  [[1.448314071, -2.0282983902, -0.5250437575],
                                   [-1.5049182451, -3.2175536068, -1.1556646916],
                                   [-1.4735402737, -1.1501342269, 0.0822414125],
                                   [-3.3915801305, -1.811992587, -1.6236561064]]],
 ('nce', 1, True, False, 'mod'): [[6.1385191373, 9.8118921276, 3.4321172594, 2.9486544276],
                                  [[1.448314071, -2.0282983902, -0.5250437575],
                                   [-2.320831385, -2.9926741968, -1.1715049729],
                                   [-1.6484001285, -1.059691319, 0.1662452146],
                                   [-3.3915801305, -1.811992587, -1.6236561064]]],
 ('nce', 1, True, True, 'div'): [[6.1385191373, 9.8118921276, 3.4321172594, 2.9486544276],
                                 [[1.448314071, -2.0282983902, -0.5250437575],
                                  [-2.320831385, -2.9926741968, -1.1715049729],
                                  [-1.6484001285, -1.059691319, 0.1662452146],
                                  [-3.3915801305, -1.811992587, -1.6236561064]]],
 ('nce', 1, True, True, 'mod'): [[6.1385191373, 9.8118921276, 3.4321172594, 2.9486544276],
                                 [[1.448314071, -2.0282983902, -0.5250437575],
                                  [-2.320831385, -2.9926741968, -1.1715049729],
                                  [-1.6484001285, -1.059691319, 0.1662452146],
                                  [-3.3915801305, -1.811992587, -1.6236561064]]],
 ('nce', 2, False, False, 'mod'): [[8.6160939222, 11.2735648216, 4.9968370591, 6.8489502579],
                                   [[1.4499789598, -2.3377142136, -0.4429909434],
                                    [-0.5418269453, -3.2856492646, -1.3061463011],
                                    [-2.0701708447, -0.942046364, -0.055968905],
                                    [-2.9645044828, 1.0868549311, -0.3615236384]]],
 ('nce', 2, False, True, 'div'): [[8.6160939222, 11.2735648216, 4.9968370591, 6.8489502579],
                                  [[1.4499789598, -2.3377142136, -0.4429909434],
                                   [-0.5418269453, -3.2856492646, -1.3061463011],
                                   [-2.0701708447, -0.942046364, -0.055968905],
                                   [-2.9645044828, 1.0868549311, -0.3615236384]]],
 ('nce', 2, False, True, 'mod'): [[8.6160939222, 11.2735648216, 4.9968370591, 6.8489502579],
                                  [[1.4499789598, -2.3377142136, -0.4429909434],
                                   [-0.5418269453, -3.2856492646, -1.3061463011],
                                   [-2.0701708447, -0.942046364, -0.055968905],
                                   [-2.9645044828, 1.0868549311, -0.3615236384]]],
 ('nce', 2, True, False, 'mod'): [[8.4146125043, 10.9712951545, 3.6325220652, 6.8489502579],
                                  [[1.3577713078, -2.2900215731, -0.3986937926],
                                   [-1.4238123547, -3.0425592237, -1.3232693211],
                                   [0.9238564001, -2.0657599265, -0.2562514062],
                                   [-2.9645044828, 1.0868549311, -0.3615236384]]],
 ('nce', 2, True, True, 'div'): [[8.4146125043, 10.9712951545, 3.6325220652, 6.8489502579],
                                 [[1.3577713078, -2.2900215731, -0.3986937926],
                                  [-1.4238123547, -3.0425592237, -1.3232693211],
                                  [0.9238564001, -2.0657599265, -0.2562514062],
                                  [-2.9645044828, 1.0868549311, -0.3615236384]],
                                 [[0.6949389327, 2.3976727896, 0.5956308147],
                                  [0.2903774993, -0.0621647848, 0.1962006282],
                                  [1.0286369319, -3.7490581356, -0.46529793],
                                  [-1.0812824476, 5.1397897982, -1.8246618066]],
                                 [[-1.1409419761, -2.7537735685, -1.1693098819],
                                  [-2.1660679731, 6.5647613846, -0.7382868686], [0.0, 0.0, 0.0]],
                                 [[-0.5838053855, 2.1277870376, 0.2640809687],
                                  [-1.2369530758, 1.2455822441, -2.4831355127],
                                  [-0.4117887915, -0.9344316929, -0.9862634592]],
                                 [2.0567599293, 0.3453860092, -1.9607851206, 6.894969665],
                                 [-0.7658890231, 5.6149258666, 0.0], [1.1128483508, 5.2846132577, 0.5469825262]],
 ('nce', 2, True, True, 'mod'): [[8.4146125043, 10.9712951545, 3.6325220652, 6.8489502579],
                                 [[1.3577713078, -2.2900215731, -0.3986937926],
                                  [-1.4238123547, -3.0425592237, -1.3232693211],
                                  [0.9238564001, -2.0657599265, -0.2562514062],
                                  [-2.9645044828, 1.0868549311, -0.3615236384]]],
 ('softmax', 1, False, False, 'mod'): [[1.6224578976, 6.9242548368, 2.2791215073, 0.5703801593],
                                       [[-0.1330788002, -0.3172132324, -0.2540519673],
                                        [-3.4534398079, -1.9385408925, -0.8671754397],
                                        [-2.2073134738, 0.1448616896, 0.49583686],
                                        [-1.9854346719, 0.8616249419, -3.5144678558]]],
 ('softmax', 1, False, True, 'div'): [[1.6224578976, 6.9242548368, 2.2791215073, 0.5703801593],
                                      [[-0.1330788002, -0.3172132324, -0.2540519673],
                                       [-3.4534398079, -1.9385408925, -0.8671754397],
                                       [-2.2073134738, 0.1448616896, 0.49583686],
                                       [-1.9854346719, 0.8616249419, -3.5144678558]]],
 ('softmax', 1, False, True, 'mod'): [[1.6224578976, 6.9242548368, 2.2791215073, 0.5703801593],
                                      [[-0.1330788002, -0.3172132324, -0.2540519673],
                                       [-3.4534398079, -1.9385408925, -0.8671754397],
                                       [-2.2073134738, 0.1448616896, 0.49583686],
                                       [-1.9854346719, 0.8616249419, -3.5144678558]]],
 ('softmax', 1, True, False, 'mod'): [[1.6224578976, 6.9234927423, 2.238825496, 0.5703801593],
                                      [[-0.1330788002, -0.3172132324, -0.2540519673],
                                       [-3.4560726587, -1.940018807, -0.8678365612],
                                       [-2.2980758012, 0.1508182446, 0.516225132],
                                       [-1.9854346719, 0.8616249419, -3.5144678558]]],
 ('softmax', 1, True, True, 'div'): [[1.6224578976, 6.9234927423, 2.238825496, 0.5703801593],
                                     [[-0.1330788002, -0.3172132324, -0.2540519673],
                                      [-3.4560726587, -1.940018807, -0.8678365612],
                                      [-2.2980758012, 0.1508182446, 0.516225132],
                                      [-1.9854346719, 0.8616249419, -3.5144678558]]],
 ('softmax', 1, True, True, 'mod'): [[1.6224578976, 6.9234927423, 2.238825496, 0.5703801593],
                                     [[-0.1330788002, -0.3172132324, -0.2540519673],
                                      [-3.4560726587, -1.940018807, -0.8678365612],
                                      [-2.2980758012, 0.1508182446, 0.516225132],
                                      [-1.9854346719, 0.8616249419, -3.5144678558]]],
 ('softmax', 2, False, False, 'mod'): [[3.2181767245, 5.0208291128, 2.5885749179, 4.2805239955],
                                       [[-0.0527870832, -0.3978837091, -0.0837421703],
                                        [0.5272101503, -3.321018972, -0.395602439],
                                        [-0.8162048096, -0.0146672981, 0.2469648758],
                                        [-3.279937097, 4.6502424897, -3.8302240145]]],
 ('softmax', 2, False, True, 'div'): [[3.2181767245, 5.0208291128, 2.5885749179, 4.2805239955],
                                      [[-0.0527870832, -0.3978837091, -0.0837421703],
                                       [0.5272101503, -3.321018972, -0.395602439],
                                       [-0.8162048096, -0.0146672981, 0.2469648758],
                                       [-3.279937097, 4.6502424897, -3.8302240145]]],
 ('softmax', 2, False, True, 'mod'): [[3.2181767245, 5.0208291128, 2.5885749179, 4.2805239955],
                                      [[-0.0527870832, -0.3978837091, -0.0837421703],
                                       [0.5272101503, -3.321018972, -0.395602439],
                                       [-0.8162048096, -0.0146672981, 0.2469648758],
                                       [-3.279937097, 4.6502424897, -3.8302240145]]],
 ('softmax', 2, True, False, 'mod'): [[3.2106743494, 5.0196652778, 2.1976942353, 4.2805239955],
                                      [[-0.0535527831, -0.4028664511, -0.0834509989],
                                       [0.5231906831, -3.3231217149, -0.396586332],
                                       [0.0916425258, -0.5625280388, 0.1220621875],
                                       [-3.279937097, 4.6502424897, -3.8302240145]]],
 ('softmax', 2, True, True, 'div'): [[3.2106743494, 5.0196652778, 2.1976942353, 4.2805239955],
                                     [[-0.0535527831, -0.4028664511, -0.0834509989],
                                      [0.5231906831, -3.3231217149, -0.396586332],
                                      [0.0916425258, -0.5625280388, 0.1220621875],
                                      [-3.279937097, 4.6502424897, -3.8302240145]]],
 ('softmax', 2, True, True, 'mod'): [[3.2106743494, 5.0196652778, 2.1976942353, 4.2805239955],
                                     [[-0.0535527831, -0.4028664511, -0.0834509989],
                                      [0.5231906831, -3.3231217149, -0.396586332],
                                      [0.0916425258, -0.5625280388, 0.1220621875],
                                      [-3.279937097, 4.6502424897, -3.8302240145]],
                                     [[0.8940036277, 2.2322647516, 1.9088299099],
                                      [0.3698364941, 2.5734032636, 0.3515054828], [0.0, 0.0, 0.0],
                                      [0.7358718782, 1.6698414797, 1.762465514]],
                                     [[-0.2652805029, 0.0567919533, -0.1792432315],
                                      [-0.9728934151, -3.087723272, -0.6623550916],
                                      [0.5026598667, -1.8320371399, -0.2273752655]],
                                     [[1.0476670452, -3.8184169139, -0.473906091],
                                      [-1.1972113773, 4.6388510982, 0.5700236636],
                                      [-1.1146536166, -2.4329752206, -3.0499448908]],
                                     [-0.6478357404, 1.7303748944, 0.0, -0.9774648247],
                                     [-0.3155346899, -1.8981205694, -0.9581689679],
                                     [-1.9970602744, 2.4403618103, 2.6234483619]]}


@pytest.mark.parametrize("case", list(TF_LOSSES))
def test_sampled_losses_match_tf(case):
    with tf.Graph().as_default():
        got = loss_case(*case)
    for value, want in zip(got, TF_LOSSES[case]):
        np.testing.assert_allclose(value, want, atol=1e-8)


@pytest.mark.parametrize("kind", ["nce", "softmax"])
def test_sampled_loss_gradients_numerically(kind):
    with tf.Graph().as_default():
        loss, inputs, weights, _ = loss_case(kind, 2, True, True, "div", fetch=False)
        total = tf.reduce_sum(loss)
        with tf.Session():
            errors = [tf.test.compute_gradient_error(x, x.shape.as_list(), total, [], delta=1e-6)
                      for x in [inputs, weights[1]]]
        assert max(errors) < 1e-6



def test_default_sampler_trains_float32():
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        w = tf.Variable(tf.random_normal([50, 4], seed=2))
        b = tf.Variable(tf.zeros([50]))
        x = tf.constant(np.random.RandomState(0).randn(6, 4).astype(np.float32))
        labels = tf.constant([[1], [3], [5], [7], [9], [11]], tf.int64)
        nce = tf.reduce_mean(tf.nn.nce_loss(w, b, labels, x, num_sampled=8, num_classes=50))
        ssm = tf.reduce_mean(tf.nn.sampled_softmax_loss(w, b, labels, x, num_sampled=8, num_classes=50))
        assert nce.dtype == tf.float32 and ssm.dtype == tf.float32
        step = tf.train.GradientDescentOptimizer(0.5).minimize(nce + ssm)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            before = sess.run([nce, ssm])
            for _ in range(30):
                sess.run(step)
            after = sess.run([nce, ssm])
        assert after[0] < before[0] and after[1] < before[1]


def test_accidental_hits_of_a_class_sampled_twice_as_tf():
    """TF removes a hit only at the last position a class was sampled at (class 2 at 0 and 2)."""
    with tf.Graph().as_default():
        w = tf.constant(np.arange(12.0).reshape(6, 2) / 10, tf.float32)
        b = tf.constant(np.zeros(6), tf.float32)
        x = tf.constant([[1.0, 2.0], [0.5, -1.0]])
        labels = tf.constant([[2], [5]], tf.int64)
        values = (tf.constant([2, 3, 2, 5], tf.int64), tf.constant([[0.5], [0.5]]), tf.constant([0.5] * 4))
        softmax = tf.nn.sampled_softmax_loss(w, b, labels, x, 4, 6, sampled_values=values)
        nce = tf.nn.nce_loss(w, b, labels, x, 4, 6, sampled_values=values, remove_accidental_hits=True)
        with tf.Session() as sess:
            got = sess.run([softmax, nce])
    np.testing.assert_allclose(got[0], [2.2896788, 1.5935361], rtol=1e-6)
    np.testing.assert_allclose(got[1], [8.997633, 3.3159187], rtol=1e-6)
