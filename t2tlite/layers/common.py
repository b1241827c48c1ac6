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


class Dense(keras.layers.Dense):
  """keras.layers.Dense that runs a [..., d] input of rank 3 or more as one
  2-D matmul between two reshapes.

  Keras 3 sends such inputs through tf.tensordot: about eight ops (shape
  gathers, products, concats, two reshapes) around each matmul. In a
  decoding step, where every matmul is small, they cost: beam-4 generation
  of transformer_base ran 7% faster without them (bench_peer's shapes).
  The class keeps Keras' name and variables, so checkpoint keys (by class
  name, see model.structured_variables) are unchanged.
  """

  def call(self, inputs, training=None):
    rank = inputs.shape.rank
    if (rank is None or rank <= 2 or self.lora_enabled or
        getattr(self, "quantization_mode", None)):
      return super().call(inputs, training=training)
    y = tf.matmul(tf.reshape(inputs, [-1, inputs.shape[-1]]), self.kernel)
    if self.bias is not None:
      y = tf.nn.bias_add(y, self.bias)
    if self.activation is not None:
      y = self.activation(y)
    return tf.reshape(y, tf.concat([tf.shape(inputs)[:-1], [self.units]],
                                   0))


class FeedForward(keras.layers.Layer):
  """Dense -> ReLU -> dropout -> dense."""

  def __init__(self, hidden_size, filter_size, dropout, **kwargs):
    super().__init__(**kwargs)
    self.hidden_size, self.filter_size, self.dropout = (hidden_size,
                                                        filter_size, dropout)
    self.inner = Dense(filter_size, activation="relu", name="inner")
    self.outer = Dense(hidden_size, name="outer")
    self.drop = keras.layers.Dropout(dropout)

  def build(self, input_shape):
    del input_shape  # sublayers build on their first call

  def call(self, x, training=False):
    return self.outer(self.drop(self.inner(x), training=training))

  def get_config(self):
    return {**super().get_config(), "hidden_size": self.hidden_size,
            "filter_size": self.filter_size, "dropout": self.dropout}
