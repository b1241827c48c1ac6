"""Multi-head dot-product attention with an explicit decoding cache.

The cache is passed in and out (as keras-hub's CachedMultiHeadAttention
does), never hidden in the layer, so incremental decoding is a pure function
that compiles inside a while loop and is easy to test against a full pass.
"""
import keras
import tensorflow as tf

from t2tlite.layers import common


def _group_rows(q, groups_of):
  """[B * G, H, T, dh] -> [B, H, G * T, dh]: each memory row's G query rows
  side by side (G = 1: a reshape)."""
  s = tf.shape(q)
  g = s[0] // groups_of
  q = tf.reshape(q, [groups_of, g, s[1], s[2], s[3]])
  q = tf.transpose(q, [0, 2, 1, 3, 4])
  return tf.reshape(q, [groups_of, s[1], g * s[2], s[3]])


def _ungroup_rows(x, rows):
  """The inverse of _group_rows: [B, H, G * T, dh] -> [rows, H, T, dh]."""
  s = tf.shape(x)
  g = rows // s[0]
  x = tf.reshape(x, [s[0], s[1], g, s[2] // g, s[3]])
  x = tf.transpose(x, [0, 2, 1, 3, 4])
  return tf.reshape(x, [rows, s[1], s[2] // g, s[3]])


class MultiHeadAttention(keras.layers.Layer):
  """Attention of `query` [B, T, d] over `memory` [B, S, d]."""

  def __init__(self, hidden_size, num_heads, dropout=0.0, **kwargs):
    super().__init__(**kwargs)
    if hidden_size % num_heads:
      raise ValueError(f"hidden_size {hidden_size} is not divisible by "
                       f"num_heads {num_heads}")
    self.hidden_size, self.num_heads, self.dropout = (hidden_size, num_heads,
                                                      dropout)
    self.q = common.Dense(hidden_size, use_bias=False, name="q")
    self.k = common.Dense(hidden_size, use_bias=False, name="k")
    self.v = common.Dense(hidden_size, use_bias=False, name="v")
    self.o = common.Dense(hidden_size, use_bias=False, name="o")
    self.drop = keras.layers.Dropout(dropout)

  def empty_cache(self, batch, dtype=tf.float32):
    """A self-attention cache holding no position yet: {"k", "v"}."""
    empty = tf.zeros([batch, self.num_heads, 0,
                      self.hidden_size // self.num_heads], dtype)
    return {"k": empty, "v": empty}

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
           cache=None):
    """Attends; returns (output, new_cache).

    kv: precomputed (k, v) of the memory, [B, H, S, dh] each (source
      attention while decoding). The query may hold G rows per memory row,
      [B * G, T, d] (the G beams of each source, in order): each group
      attends to its one memory, which is then read once for all G beams
      rather than tiled G times; bias then has B rows too.
    cache: {"k", "v"} [B, H, i, dh], the keys and values of a
      self-attention's first i positions; the query's own are appended, so
      the cache grows by a position a step (see `empty_cache`). A growing
      cache copies only the positions there are at each step, where a
      fixed max_len buffer written by scatter copied all of them; beam
      search, which reorders the cache rows every step, copies half as much
      on average too, and no mask is needed: every cached position is
      visible.
    """
    q = self.split_heads(self.q(query))
    rows = tf.shape(q)[0]
    if kv is not None:
      k, v = kv
      q = _group_rows(q, tf.shape(k)[0])
    else:
      k, v = self.memory_kv(query if memory is None else memory)
    if cache is not None:
      k = tf.concat([cache["k"], k], axis=2)
      v = tf.concat([cache["v"], v], axis=2)
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
    if kv is not None:
      out = _ungroup_rows(out, rows)
    b, t = tf.shape(out)[0], tf.shape(out)[2]
    out = tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b, t,
                                                       self.hidden_size])
    return self.o(out), cache

  def get_config(self):
    return {**super().get_config(), "hidden_size": self.hidden_size,
            "num_heads": self.num_heads, "dropout": self.dropout}
