"""The word2vec example (skip-gram, NCE loss, on the standard library's help topics): a short
run really trains, its NCE loss falling clearly; the full run is `python -m caudal.examples.word2vec`."""
import numpy as np

from caudal.examples import word2vec


def test_word2vec_short_run_learns(capsys):
    averages = word2vec.main(["--steps", "1500", "--log_every", "300"])
    assert len(averages) == 5
    assert averages[-1] < averages[0] / 3
    out = capsys.readouterr().out
    assert "average loss" in out and "nearest to 'function':" in out


def test_skip_gram_batches():
    data = list(range(100, 120))
    batch, labels = word2vec.BatchGenerator(data, 2, 4, np.random.RandomState(0))(8)
    assert batch.tolist() == [102] * 4 + [103] * 4
    for centre, context in zip(batch, labels[:, 0]):
        assert 1 <= abs(int(context) - int(centre)) <= 2
    assert sorted(labels[:4, 0].tolist()) == [100, 101, 103, 104]  # num_skips distinct contexts
    ids, vocabulary = word2vec.build_dataset(["b", "a", "b", "c", "b", "a"], 3)
    assert vocabulary == ["UNK", "b", "a"] and ids == [1, 2, 1, 0, 1, 2]
