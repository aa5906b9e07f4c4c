"""Skip-gram word2vec with NCE loss, in the shape of TF1's word2vec_basic tutorial, trained on
English text every Python installation ships: the standard library's help topics
(`pydoc_data.topics`), about 65,000 words; nothing downloads.

The vocabulary is the most common words (the rest become UNK); batches pair each centre
word with `num_skips` words drawn from `skip_window` words either side; 128-dimensional
embeddings, `tf.nn.nce_loss` with 64 negative samples, SGD with learning rate 1.0. At the
end it prints the nearest neighbours (cosine similarity) of a few frequent words.

    python -m caudal.examples.word2vec [--steps N] [--vocabulary_size V]
"""
from __future__ import annotations

import argparse
import collections
import math
import re
import time

import numpy as np

import caudal as tf

EMBEDDING_SIZE = 128
NUM_SAMPLED = 64
NEIGHBOUR_WORDS = ["function", "string", "class", "list", "true", "value", "statement", "object"]


def read_words() -> list[str]:
    """The help topics' text, lowercased and split into words."""
    from pydoc_data.topics import topics

    return re.findall(r"[a-z]+", " ".join(topics.values()).lower())


def build_dataset(words: list[str], vocabulary_size: int) -> tuple[list[int], list[str]]:
    """Word ids (0 is UNK, then by frequency) and the id-to-word list."""
    vocabulary = ["UNK"] + [w for w, _ in collections.Counter(words).most_common(vocabulary_size - 1)]
    index = {w: i for i, w in enumerate(vocabulary)}
    return [index.get(w, 0) for w in words], vocabulary


class BatchGenerator:
    """The tutorial's skip-gram batches: `num_skips` (centre, context) pairs per centre word, the
    contexts drawn without repeats from the `skip_window` words on either side."""

    def __init__(self, data: list[int], skip_window: int, num_skips: int, rng: np.random.RandomState):
        assert num_skips <= 2 * skip_window
        self.data = np.asarray(data, np.int64)
        self.skip_window, self.num_skips, self.rng = skip_window, num_skips, rng
        self.context = np.array([o for o in range(-skip_window, skip_window + 1) if o != 0])
        self.position = skip_window

    def __call__(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        assert batch_size % self.num_skips == 0
        count = batch_size // self.num_skips
        last = len(self.data) - self.skip_window  # centres run over [skip_window, last)
        centres = (self.position - self.skip_window + np.arange(count)) % (last - self.skip_window)
        centres += self.skip_window
        self.position = int(centres[-1]) + 1
        # num_skips distinct context offsets per centre: the first of a random ordering of them.
        order = self.rng.rand(count, len(self.context)).argsort(axis=1)[:, :self.num_skips]
        contexts = centres[:, None] + self.context[order]
        batch = np.repeat(self.data[centres], self.num_skips).astype(np.int32)
        return batch, self.data[contexts].reshape(batch_size, 1)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--vocabulary_size", type=int, default=2000)
    parser.add_argument("--skip_window", type=int, default=1)
    parser.add_argument("--num_skips", type=int, default=2)
    parser.add_argument("--log_every", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[float]:
    """Trains and returns the average loss of each logging window."""
    args = parse_args(argv)
    log_every = args.log_every or max(args.steps // 10, 1)
    tf.reset_default_graph()
    tf.set_random_seed(args.seed)
    words = read_words()
    data, vocabulary = build_dataset(words, args.vocabulary_size)
    vocabulary_size = len(vocabulary)
    print(f"{len(words)} words, vocabulary of {vocabulary_size}; most common: {vocabulary[1:8]}")
    next_batch = BatchGenerator(data, args.skip_window, args.num_skips, np.random.RandomState(args.seed))

    train_inputs = tf.placeholder(tf.int32, [args.batch_size])
    train_labels = tf.placeholder(tf.int64, [args.batch_size, 1])
    embeddings = tf.Variable(tf.random_uniform([vocabulary_size, EMBEDDING_SIZE], -1.0, 1.0), name="embeddings")
    embed = tf.nn.embedding_lookup(embeddings, train_inputs)
    nce_weights = tf.Variable(tf.truncated_normal([vocabulary_size, EMBEDDING_SIZE],
                                                  stddev=1.0 / math.sqrt(EMBEDDING_SIZE)), name="nce_weights")
    nce_biases = tf.Variable(tf.zeros([vocabulary_size]), name="nce_biases")
    loss = tf.reduce_mean(tf.nn.nce_loss(weights=nce_weights, biases=nce_biases, labels=train_labels,
                                         inputs=embed, num_sampled=NUM_SAMPLED, num_classes=vocabulary_size))
    train_op = tf.train.GradientDescentOptimizer(1.0).minimize(loss)

    neighbour_ids = [vocabulary.index(w) for w in NEIGHBOUR_WORDS if w in vocabulary]
    norm = tf.sqrt(tf.reduce_sum(tf.square(embeddings), 1, keepdims=True))
    normalized = embeddings / norm
    similarity = tf.matmul(tf.nn.embedding_lookup(normalized, neighbour_ids), normalized, transpose_b=True)

    averages = []
    start = time.perf_counter()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        total = 0.0
        for step in range(1, args.steps + 1):
            batch, labels = next_batch(args.batch_size)
            value, _ = sess.run([loss, train_op], {train_inputs: batch, train_labels: labels})
            total += value
            if step % log_every == 0 or step == args.steps:
                window = log_every if step % log_every == 0 else step % log_every
                averages.append(total / window)
                total = 0.0
                print(f"step {step:6d}/{args.steps}  average loss {averages[-1]:.4f}  "
                      f"({time.perf_counter() - start:.1f} s)", flush=True)
        sim = sess.run(similarity)
    for row, word_id in zip(sim, neighbour_ids):
        nearest = [vocabulary[i] for i in (-row).argsort()[1:9]]
        print(f"nearest to {vocabulary[word_id]!r}: {', '.join(nearest)}")
    return averages


if __name__ == "__main__":
    main()
