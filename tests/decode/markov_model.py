"""A fixed first-order Markov "model" for search tests: the next-token
logits depend only on the previous token, so exact answers can be had by
enumeration. Ids 0 (pad) and 1 (EOS) are special; decoding starts from 2."""
import numpy as np
import tensorflow as tf

V, L = 5, 4  # vocabulary size, longest decode


def markov(seed, scale):
  """A V x V table of next-token logits (row: previous token)."""
  rng = np.random.default_rng(seed)
  table = rng.normal(size=(V, V)).astype(np.float32) * scale
  table[:, 0] = -1e9  # never emit padding
  return tf.constant(table)


def step_fn(table):
  """search's step function over the table (no cache)."""
  def fn(prev, i, cache):
    first = tf.fill(tf.shape(prev), 2)
    prev = tf.where(i > 0, prev, first)
    return tf.gather(table, prev), cache
  return fn
