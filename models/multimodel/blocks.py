"""The MultiModel's blocks: conv block, attention block, MoE sublayer.

Every causal block runs either over a whole sequence (`call`) or one
position at a time with an explicit cache (`step`), a nested dict of
tensors that `init_cache` makes (conv windows of fixed size, self-attention
keys and values that grow a position a step); both give the same numbers.
"""
import keras
import tensorflow as tf

from t2tlite.decode import search
from t2tlite.layers import attention
from t2tlite.layers import common
from t2tlite.layers import convolution
from t2tlite.layers import moe

# PAPER.md: kernels 3x1, 3x1, 15x1, 15x1, the last dilated by 8.
CONV_BLOCK_STEPS = ((3, 1), (3, 1), (15, 1), (15, 8))


class ConvBlock(keras.layers.Layer):
  """h1 = ConvStep(W3, x), h2 = x + ConvStep(W3, h1), h3 = ConvStep(W15, h2),
  h4 = x + ConvStep_{d=8}(W15, h3).

  Dropout is applied to the last step before the skip is added, so the
  identity path from the block input is never dropped.
  """

  def __init__(self, hidden_size, dropout, padding="same", **kwargs):
    super().__init__(**kwargs)
    self.hidden_size, self.dropout, self.padding = (hidden_size, dropout,
                                                    padding)
    self.steps = [convolution.ConvStep(hidden_size, k, d, padding,
                                       name=f"step_{n}")
                  for n, (k, d) in enumerate(CONV_BLOCK_STEPS)]
    self.drop = keras.layers.Dropout(dropout)

  def init_cache(self, batch, dtype=tf.float32):
    return {f"step_{n}": s.init_cache(batch, self.hidden_size, dtype)
            for n, s in enumerate(self.steps)}

  def build(self, input_shape):
    del input_shape  # sublayers build on their first call

  def call(self, x, valid=None, training=False):
    h1 = self.steps[0](x, valid)
    h2 = x + self.steps[1](h1, valid)
    h3 = self.steps[2](h2, valid)
    return x + self.drop(self.steps[3](h3, valid), training=training)

  def step(self, x, cache):
    """x [B, 1, d] -> (y [B, 1, d], new cache)."""
    new = {}
    h1, new["step_0"] = self.steps[0](x, cache=cache["step_0"])
    h2, new["step_1"] = self.steps[1](h1, cache=cache["step_1"])
    h2 = x + h2
    h3, new["step_2"] = self.steps[2](h2, cache=cache["step_2"])
    h4, new["step_3"] = self.steps[3](h3, cache=cache["step_3"])
    return x + h4, new


class AttentionBlock(keras.layers.Layer):
  """PAPER.md's attention block, causal on the target side.

  The target gets the timing signal added, is mixed by two causal conv
  blocks, attends to itself (masked multi-head attention), then attends to
  the source, whose keys and values are two pointwise convolutions of it
  (the attention layer's k and v projections). Each attention is a
  pre-norm residual sublayer, so the block output keeps the target path.
  With use_attention False (the ablation) only the conv blocks remain.
  """

  def __init__(self, hp, num_conv_blocks=2, use_attention=True, **kwargs):
    super().__init__(**kwargs)
    self.hidden_size, self.num_heads = hp.hidden_size, hp.num_heads
    self.use_attention = use_attention
    self.convs = [ConvBlock(hp.hidden_size, hp.dropout, "causal",
                            name=f"conv_{n}") for n in range(num_conv_blocks)]
    if not use_attention:
      return
    self.self_attn = attention.MultiHeadAttention(
        hp.hidden_size, hp.num_heads, hp.attention_dropout, name="self")
    self.src_attn = attention.MultiHeadAttention(
        hp.hidden_size, hp.num_heads, hp.attention_dropout, name="source")
    self.self_norm = keras.layers.LayerNormalization(epsilon=1e-6,
                                                     name="self_ln")
    self.src_norm = keras.layers.LayerNormalization(epsilon=1e-6,
                                                    name="source_ln")
    self.drop = keras.layers.Dropout(hp.dropout)

  def init_cache(self, source, batch, max_len):
    """Empty conv windows and self-attention buffers; the source's keys and
    values computed once."""
    cache = {f"conv_{n}": c.init_cache(batch, source.dtype)
             for n, c in enumerate(self.convs)}
    if not self.use_attention:
      return cache
    del max_len  # the self-attention cache grows a position a step
    src_k, src_v = self.src_attn.memory_kv(source)
    cache.update({**self.self_attn.empty_cache(batch, source.dtype),
                  search.STATIC: {"k": src_k, "v": src_v}})
    return cache

  def build(self, input_shape):
    del input_shape  # sublayers build on their first call

  def call(self, x, source, source_bias, training=False):
    if self.use_attention:
      x = common.add_timing_signal(x)
    for conv in self.convs:
      x = conv(x, training=training)
    if not self.use_attention:
      return x
    y, _ = self.self_attn(self.self_norm(x),
                          bias=common.causal_bias(tf.shape(x)[1]),
                          training=training)
    x = x + self.drop(y, training=training)
    y, _ = self.src_attn(self.src_norm(x), memory=source, bias=source_bias,
                         training=training)
    return x + self.drop(y, training=training)

  def step(self, x, i, cache, source_bias):
    """Position i: x [B, 1, d] -> (y [B, 1, d], new cache)."""
    new = {}
    if self.use_attention:
      x = x + tf.cast(common.timing_signal(1, x.shape[-1], start=i),
                      x.dtype)[None]
    for n, conv in enumerate(self.convs):
      x, new[f"conv_{n}"] = conv.step(x, cache[f"conv_{n}"])
    if not self.use_attention:
      return x, new
    y, kv = self.self_attn(self.self_norm(x),
                           cache={"k": cache["k"], "v": cache["v"]})
    x = x + y
    y, _ = self.src_attn(self.src_norm(x), bias=source_bias,
                         kv=(cache[search.STATIC]["k"],
                             cache[search.STATIC]["v"]))
    new.update({"k": kv["k"], "v": kv["v"],
                search.STATIC: cache[search.STATIC]})
    return x + y, new


class SelfAttentionLayer(keras.layers.Layer):
  """Unmasked pre-norm self-attention over the source (an ablation switch:
  the paper asks whether self-attention in more places would help)."""

  def __init__(self, hp, **kwargs):
    super().__init__(**kwargs)
    self.attn = attention.MultiHeadAttention(
        hp.hidden_size, hp.num_heads, hp.attention_dropout, name="self")
    self.norm = keras.layers.LayerNormalization(epsilon=1e-6, name="ln")
    self.drop = keras.layers.Dropout(hp.dropout)

  def build(self, input_shape):
    del input_shape  # sublayers build on their first call

  def call(self, x, bias, training=False):
    y, _ = self.attn(self.norm(x), bias=bias, training=training)
    return x + self.drop(y, training=training)


class ExpertsLayer(keras.layers.Layer):
  """x + dropout(MoE(LN(x))), or a dense feed-forward net of the same active
  size (k * expert hidden units) when hp.use_moe is False (the ablation)."""

  def __init__(self, hp, **kwargs):
    super().__init__(**kwargs)
    self.use_moe = hp.use_moe
    self.norm = keras.layers.LayerNormalization(epsilon=1e-6, name="ln")
    self.drop = keras.layers.Dropout(hp.dropout)
    if self.use_moe:
      self.ffn = moe.MixtureOfExperts(
          hp.hidden_size, hp.moe_hidden_size, hp.moe_num_experts, hp.moe_k,
          noise=hp.moe_noise, capacity_factor=hp.moe_capacity_factor,
          importance_weight=hp.moe_importance_weight,
          load_weight=hp.moe_load_weight, name="moe")
    else:
      self.ffn = common.FeedForward(hp.hidden_size,
                                    hp.moe_k * hp.moe_hidden_size, 0.0,
                                    name="dense_ffn")

  def build(self, input_shape):
    del input_shape  # sublayers build on their first call

  def call(self, x, valid=None, training=False):
    """Returns (y, losses, stats); the dicts are empty without MoE."""
    h = self.norm(x)
    if self.use_moe:
      y, losses, stats = self.ffn(h, valid, training=training)
    else:
      y, losses, stats = self.ffn(h, training=training), {}, {}
    return x + self.drop(y, training=training), losses, stats
