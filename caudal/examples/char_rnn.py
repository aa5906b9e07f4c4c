"""A character-level language model, the classic TF1 char-rnn: a 2-layer LSTM
(tf.nn.rnn_cell.MultiRNNCell of BasicLSTMCells) read through tf.nn.dynamic_rnn, a softmax over
the characters, tf.contrib.seq2seq.sequence_loss, Adam with gradients clipped by
tf.clip_by_global_norm. It trains briefly on English text every Python has (the standard library's
pydoc_data help topics; nothing downloads), then samples a line from a second graph of batch 1 and
one step that reuses the trained variables and feeds the LSTM state back step by step.

    python -m caudal.examples.char_rnn [--steps N] [--seq_length T] [--num_units U]
"""
from __future__ import annotations

import argparse
import math
import string

import numpy as np

import caudal as tf
from caudal.examples._mnist_common import Progress, seed_everything

NUM_LAYERS = 2
PRIME = "The "


def load_text() -> tuple[str, list[str]]:
    """The help topics as one text, and its vocabulary (printable ASCII; other characters become '?')."""
    from pydoc_data.topics import topics

    allowed = set(string.printable) - set("\r\x0b\x0c")
    text = "\n".join(topics[key] for key in sorted(topics))
    text = "".join(c if c in allowed else "?" for c in text)
    return text, sorted(set(text))


class CharModel:
    """The network for `batch_size` sequences of `seq_length` characters (None: any), its
    placeholders, initial state (zero unless fed) and final state."""

    def __init__(self, vocab_size: int, num_units: int, batch_size: int | None, seq_length: int | None):
        self.inputs = tf.placeholder(tf.int32, [batch_size, seq_length], name="inputs")
        cell = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(num_units) for _ in range(NUM_LAYERS)])
        self.initial_state = cell.zero_state(tf.shape(self.inputs)[0], tf.float32)
        one_hot = tf.one_hot(self.inputs, vocab_size)
        outputs, self.final_state = tf.nn.dynamic_rnn(cell, one_hot, initial_state=self.initial_state)
        softmax_w = tf.get_variable("softmax_w", [num_units, vocab_size])
        softmax_b = tf.get_variable("softmax_b", [vocab_size], initializer=tf.zeros_initializer())
        flat = tf.matmul(tf.reshape(outputs, [-1, num_units]), softmax_w) + softmax_b
        self.logits = tf.reshape(flat, tf.concat([tf.shape(self.inputs), [vocab_size]], 0))
        self.probs = tf.nn.softmax(self.logits)

    def state_feed(self, state: tuple) -> dict:
        """A feed dict that starts this model from `state` (the value of a final_state)."""
        feed = {}
        for placeholder, value in zip(self.initial_state, state, strict=True):
            feed[placeholder.c] = value.c
            feed[placeholder.h] = value.h
        return feed


def batches(data: np.ndarray, batch_size: int, seq_length: int, rng: np.random.RandomState):
    """Endless (inputs, targets) batches of random windows; targets are the inputs shifted by one."""
    while True:
        starts = rng.randint(0, len(data) - seq_length - 1, size=batch_size)
        window = np.stack([data[s:s + seq_length + 1] for s in starts])
        yield window[:, :-1], window[:, 1:]


def sample(sess: tf.Session, model: CharModel, chars: list[str], rng: np.random.RandomState,
           max_length: int = 120) -> str:
    """A line drawn one character at a time after PRIME, feeding each state back."""
    index = {c: i for i, c in enumerate(chars)}
    state = sess.run(model.initial_state, {model.inputs: [[0]]})
    line = PRIME
    probs = None
    for c in PRIME:
        feed = model.state_feed(state)
        feed[model.inputs] = [[index[c]]]
        probs, state = sess.run([model.probs, model.final_state], feed)
    while len(line) < max_length:
        p = probs[0, 0].astype(np.float64)
        c = chars[rng.choice(len(chars), p=p / p.sum())]
        if c == "\n":
            break
        line += c
        feed = model.state_feed(state)
        feed[model.inputs] = [[index[c]]]
        probs, state = sess.run([model.probs, model.final_state], feed)
    return line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=300, help="training steps")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--seq_length", type=int, default=50)
    parser.add_argument("--num_units", type=int, default=128)
    parser.add_argument("--learning_rate", type=float, default=0.005)
    parser.add_argument("--grad_clip", type=float, default=5.0)
    parser.add_argument("--log_every", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Trains, prints the loss and a sampled line; returns the first and final losses (mean of the
    last tenth of the steps), log(vocabulary size) and the sample."""
    args = parse_args(argv)
    tf.reset_default_graph()
    seed_everything(tf, args.seed)
    text, chars = load_text()
    data = np.searchsorted(np.array(chars), np.array(list(text))).astype(np.int32)  # chars is sorted
    print(f"{len(text)} characters of text, vocabulary of {len(chars)}; uniform entropy {math.log(len(chars)):.3f}")

    with tf.variable_scope("char_rnn"):
        model = CharModel(len(chars), args.num_units, None, args.seq_length)
    with tf.variable_scope("char_rnn", reuse=True):
        sampler = CharModel(len(chars), args.num_units, 1, 1)
    targets = tf.placeholder(tf.int32, [None, args.seq_length], name="targets")
    loss = tf.contrib.seq2seq.sequence_loss(model.logits, targets, tf.ones_like(targets, dtype=tf.float32))
    tvars = tf.trainable_variables()
    grads, _ = tf.clip_by_global_norm(tf.gradients(loss, tvars), args.grad_clip)
    train_op = tf.train.AdamOptimizer(args.learning_rate).apply_gradients(zip(grads, tvars))

    rng = np.random.RandomState(args.seed)
    stream = batches(data, args.batch_size, args.seq_length, rng)
    progress = Progress(args.steps, args.log_every or max(args.steps // 10, 1))
    losses = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, args.steps + 1):
            x, y = next(stream)
            value, _ = sess.run([loss, train_op], {model.inputs: x, targets: y})
            losses.append(float(value))
            progress(step, value)
        line = sample(sess, sampler, chars, rng)
    final = float(np.mean(losses[-max(len(losses) // 10, 1):]))
    print(f"first loss {losses[0]:.3f}, final loss {final:.3f} (uniform entropy {math.log(len(chars)):.3f})")
    print(f"sample: {line}")
    return {"first_loss": losses[0], "final_loss": final, "uniform_entropy": math.log(len(chars)), "sample": line}


if __name__ == "__main__":
    main()
