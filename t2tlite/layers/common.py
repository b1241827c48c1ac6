"""Timing signal, attention biases and a feed-forward layer."""
import math

import keras
import tensorflow as tf

NEG_INF = -1e9


def timing_signal(length, depth, start=0, max_timescale=1e4):
  """The paper's timing signal, [length, depth].

  Delta(2d) = 1e4^(-2d/depth); channels [0, depth/2) hold sin(t * Delta)
  and [depth/2, depth) hold cos(t * Delta): the halves are concatenated
  along depth, not interleaved.
  """
  half = depth // 2
  position = tf.cast(tf.range(length) + start, tf.float32)
  inv = tf.exp(tf.range(half, dtype=tf.float32) * 2.0 *
               (-math.log(max_timescale) / depth))
  scaled = position[:, None] * inv[None, :]
  signal = tf.concat([tf.sin(scaled), tf.cos(scaled)], axis=1)
  return tf.pad(signal, [[0, 0], [0, depth % 2]])


def add_timing_signal(x, start=0):
  length, depth = tf.shape(x)[1], x.shape[-1]
  return x + tf.cast(timing_signal(length, depth, start), x.dtype)[None]


def padding_bias(mask):
  """mask [B, S] (True = real) -> bias [B, 1, 1, S]."""
  return (1.0 - tf.cast(mask, tf.float32))[:, None, None, :] * NEG_INF


def causal_bias(length):
  """[1, 1, T, T]: position t may attend to positions <= t."""
  lower = tf.linalg.band_part(tf.ones([length, length]), -1, 0)
  return ((1.0 - lower) * NEG_INF)[None, None]


class FeedForward(keras.layers.Layer):
  """Dense -> ReLU -> dropout -> dense."""

  def __init__(self, hidden_size, filter_size, dropout, **kwargs):
    super().__init__(**kwargs)
    self.hidden_size, self.filter_size, self.dropout = (hidden_size,
                                                        filter_size, dropout)
    self.inner = keras.layers.Dense(filter_size, activation="relu",
                                    name="inner")
    self.outer = keras.layers.Dense(hidden_size, name="outer")
    self.drop = keras.layers.Dropout(dropout)

  def build(self, input_shape):
    del input_shape  # sublayers build on their first call

  def call(self, x, training=False):
    return self.outer(self.drop(self.inner(x), training=training))

  def get_config(self):
    return {**super().get_config(), "hidden_size": self.hidden_size,
            "filter_size": self.filter_size, "dropout": self.dropout}
