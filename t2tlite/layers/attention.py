"""Multi-head dot-product attention with an explicit decoding cache.

The cache is passed in and out (as keras-hub's CachedMultiHeadAttention
does), never hidden in the layer, so incremental decoding is a pure function
that compiles inside a while loop and is easy to test against a full pass.
"""
import keras
import tensorflow as tf


def write_position(buffer, value, index):
  """buffer [B, H, L, dh] with value [B, H, 1, dh] written at position index.

  One scatter copies the buffer once; the one-hot blend it replaces
  (buffer * (1 - onehot) + value * onehot) made five passes over it, and
  at 256 decoded positions those passes were most of a decoding step.
  """
  shape = tf.shape(buffer)
  rows = shape[0] * shape[1]
  flat = tf.reshape(buffer, [rows, shape[2], shape[3]])
  where = tf.stack([tf.range(rows), tf.fill([rows], index)], axis=1)
  flat = tf.tensor_scatter_nd_update(
      flat, where, tf.reshape(tf.cast(value, buffer.dtype), [rows, -1]))
  return tf.reshape(flat, shape)


class MultiHeadAttention(keras.layers.Layer):
  """Attention of `query` [B, T, d] over `memory` [B, S, d]."""

  def __init__(self, hidden_size, num_heads, dropout=0.0, **kwargs):
    super().__init__(**kwargs)
    if hidden_size % num_heads:
      raise ValueError(f"hidden_size {hidden_size} is not divisible by "
                       f"num_heads {num_heads}")
    self.hidden_size, self.num_heads, self.dropout = (hidden_size, num_heads,
                                                      dropout)
    self.q = keras.layers.Dense(hidden_size, use_bias=False, name="q")
    self.k = keras.layers.Dense(hidden_size, use_bias=False, name="k")
    self.v = keras.layers.Dense(hidden_size, use_bias=False, name="v")
    self.o = keras.layers.Dense(hidden_size, use_bias=False, name="o")
    self.drop = keras.layers.Dropout(dropout)

  def split_heads(self, x):
    b, t = tf.shape(x)[0], tf.shape(x)[1]
    x = tf.reshape(x, [b, t, self.num_heads, self.hidden_size //
                       self.num_heads])
    return tf.transpose(x, [0, 2, 1, 3])  # [B, H, T, dh]

  def memory_kv(self, memory):
    """Keys and values of a memory, [B, H, S, dh] each (cacheable)."""
    return self.split_heads(self.k(memory)), self.split_heads(self.v(memory))

  def build(self, input_shape):
    del input_shape  # sublayers build on their first call

  def call(self, query, memory=None, bias=None, training=False, kv=None,
           cache=None, index=None):
    """Attends; returns (output, new_cache).

    kv: precomputed (k, v) of the memory (source attention while decoding).
    cache: {"k", "v"} buffers [B, H, max_len, dh] of a self-attention; the
      query's own keys and values are written at position `index`.
    """
    q = self.split_heads(self.q(query))
    if kv is not None:
      k, v = kv
    else:
      k, v = self.memory_kv(query if memory is None else memory)
    if cache is not None:
      k = write_position(cache["k"], k, index)
      v = write_position(cache["v"], v, index)
      cache = {"k": k, "v": v}
    dh = self.hidden_size // self.num_heads
    logits = tf.einsum("bhtd,bhsd->bhts", q, k) * tf.cast(dh ** -0.5, q.dtype)
    # Bias and softmax in float32: in bfloat16 a -1e9 mask would absorb the
    # logits (8-bit mantissa) and the softmax sums would lose precision.
    logits = tf.cast(logits, tf.float32)
    if bias is not None:
      logits += tf.cast(bias, tf.float32)
    weights = tf.nn.softmax(logits)
    weights = self.drop(tf.cast(weights, q.dtype), training=training)
    out = tf.einsum("bhts,bhsd->bhtd", weights, v)
    b, t = tf.shape(out)[0], tf.shape(out)[2]
    out = tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b, t,
                                                       self.hidden_size])
    return self.o(out), cache

  def get_config(self):
    return {**super().get_config(), "hidden_size": self.hidden_size,
            "num_heads": self.num_heads, "dropout": self.dropout}
