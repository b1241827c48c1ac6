"""Greedy and beam search against brute force on a fixed Markov model."""
import itertools

import numpy as np
import tensorflow as tf

from t2tlite import search

V, L = 5, 4  # ids 0 (pad) and 1 (EOS) are special


def markov(seed):
  rng = np.random.default_rng(seed)
  table = rng.normal(size=(V, V)).astype(np.float32) * 2
  table[:, 0] = -1e9  # never emit padding
  return tf.constant(table)


def step_fn(table):
  def fn(prev, i, cache):
    first = tf.fill(tf.shape(prev), 2)
    prev = tf.where(i > 0, prev, first)
    return tf.gather(table, prev), cache
  return fn


def logp_of(table, seq):
  lp = tf.nn.log_softmax(table).numpy()
  prev, total = 2, 0.0
  for tok in seq:
    total += lp[prev, tok]
    prev = tok
  return total


def test_greedy_follows_argmax():
  table = markov(0)
  ids = search.greedy_search(step_fn(table), {}, 1, L).numpy()[0]
  prev = 2
  for tok in ids:
    if tok == 0:
      break
    assert tok == int(np.argmax(table.numpy()[prev]))
    if tok == 1:
      break
    prev = tok


def test_beam_finds_the_best_finished_sequence():
  for seed in range(5):
    table = markov(seed)
    seqs, scores = search.beam_search(step_fn(table), {"x": tf.zeros([8])},
                                      batch=1, beam=8, max_len=L, alpha=0.0)
    best = [int(t) for t in seqs.numpy()[0, 0] if t != 0]
    # Brute force over every sequence that ends with EOS within L steps.
    cands = []
    for n in range(1, L + 1):
      for body in itertools.product(range(2, V), repeat=n - 1):
        s = list(body) + [1]
        cands.append((logp_of(table, s), s))
    top = max(cands)
    if best and best[-1] == 1:
      assert np.isclose(logp_of(table, best), top[0], atol=1e-4), seed
      assert np.isclose(scores.numpy()[0, 0], top[0], atol=1e-4)
