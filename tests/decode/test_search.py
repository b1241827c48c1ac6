"""Greedy and beam search against brute force on a fixed Markov model."""
import itertools

import numpy as np
import tensorflow as tf

import markov_model
from markov_model import L, V, step_fn
from t2tlite.decode import search


def markov(seed):
  return markov_model.markov(seed, 2)


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


# Outputs of greedy and beam search (no constraint) recorded before the
# constraint hook existed: the hook must leave them exactly as they were.
GOLDEN_GREEDY = [[1, 0, 0, 0, 0, 0], [2, 2, 5, 2, 2, 2], [2, 4, 6, 3, 2, 3]]
GOLDEN_BEAM = [[[1, 0, 0, 0, 0, 0], [2, 1, 0, 0, 0, 0], [6, 2, 5, 1, 0, 0]],
               [[2, 2, 5, 1, 0, 0], [2, 1, 0, 0, 0, 0], [2, 2, 5, 2, 2, 1]],
               [[2, 4, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]]]
GOLDEN_SCORES = [[-0.0257, -3.8239, -5.1159], [-1.718, -2.643, -3.0906],
                 [-2.6131, -3.0401, -1e7]]


def test_unconstrained_search_unchanged():
  v, n, batch, beam = 7, 6, 3, 3
  rng = np.random.default_rng(11)
  table = tf.constant((rng.normal(size=(n, v, v)) * 3).astype(np.float32))
  bias = tf.constant((rng.normal(size=(batch, v)) * 2).astype(np.float32))

  def step(prev, i, cache):  # the rows' own bias travels in the cache
    return tf.gather(table[i], prev) + cache["bias"], cache

  ids = search.greedy_search(step, {"bias": bias}, batch, n)
  assert ids.numpy().tolist() == GOLDEN_GREEDY
  seqs, scores = search.beam_search(
      step, {"bias": search.tile_beams(bias, beam)}, batch, beam, n,
      alpha=0.6)
  assert seqs.numpy().tolist() == GOLDEN_BEAM
  np.testing.assert_allclose(scores.numpy(), GOLDEN_SCORES, atol=1e-3)
