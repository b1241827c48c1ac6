"""The Transformer (Vaswani et al. 2017), pre-layer-norm, with a KV cache.

The framework's first model, and the baseline MultiModel is compared with.
"""
import keras
import tensorflow as tf

from t2tlite import model as model_lib
from t2tlite import registry
from t2tlite.decode import search
from t2tlite.layers import attention
from t2tlite.layers import common


class _Sublayer(keras.layers.Layer):
  """x + dropout(f(LN(x)))."""

  def __init__(self, fn, dropout, **kwargs):
    super().__init__(**kwargs)
    self.fn = fn
    self.norm = keras.layers.LayerNormalization(epsilon=1e-6, name="ln")
    self.drop = keras.layers.Dropout(dropout)

  def build(self, input_shape):
    del input_shape  # sublayers build on their first call

  def call(self, x, training=False, memory=None, bias=None, kv=None,
           cache=None):
    h = self.norm(x)
    if isinstance(self.fn, attention.MultiHeadAttention):
      y, cache = self.fn(h, memory=memory, bias=bias, training=training,
                         kv=kv, cache=cache)
    else:
      y = self.fn(h, training=training)
    return x + self.drop(y, training=training), cache


class EncoderLayer(keras.layers.Layer):

  def __init__(self, hp, **kwargs):
    super().__init__(**kwargs)
    self.attn = _Sublayer(attention.MultiHeadAttention(
        hp.hidden_size, hp.num_heads, hp.attention_dropout, name="self"),
                          hp.dropout, name="self_attention")
    self.ffn = _Sublayer(common.FeedForward(hp.hidden_size, hp.filter_size,
                                            hp.relu_dropout, name="ffn"),
                         hp.dropout, name="ffn")

  def build(self, input_shape):
    del input_shape

  def call(self, x, bias, training=False):
    x, _ = self.attn(x, bias=bias, training=training)
    x, _ = self.ffn(x, training=training)
    return x


class DecoderLayer(keras.layers.Layer):

  def __init__(self, hp, **kwargs):
    super().__init__(**kwargs)
    self.self_attn = _Sublayer(attention.MultiHeadAttention(
        hp.hidden_size, hp.num_heads, hp.attention_dropout, name="self"),
                               hp.dropout, name="self_attention")
    self.src_attn = _Sublayer(attention.MultiHeadAttention(
        hp.hidden_size, hp.num_heads, hp.attention_dropout, name="src"),
                              hp.dropout, name="source_attention")
    self.ffn = _Sublayer(common.FeedForward(hp.hidden_size, hp.filter_size,
                                            hp.relu_dropout, name="ffn"),
                         hp.dropout, name="ffn")

  def build(self, input_shape):
    del input_shape

  def call(self, x, memory, self_bias, src_bias, training=False, cache=None,
           src_kv=None):
    x, cache = self.self_attn(x, bias=self_bias, training=training,
                              cache=cache)
    x, _ = self.src_attn(x, memory=memory, bias=src_bias, training=training,
                         kv=src_kv)
    x, _ = self.ffn(x, training=training)
    return x, cache


@registry.register_model
class Transformer(model_lib.T2TModel):
  """Encoder-decoder self-attention model."""

  def __init__(self, hparams, specs, **kwargs):
    super().__init__(hparams, specs, **kwargs)
    hp = hparams
    self.encoder_layers = [EncoderLayer(hp, name=f"encoder_{i}")
                           for i in range(hp.num_encoder_layers)]
    self.decoder_layers = [DecoderLayer(hp, name=f"decoder_{i}")
                           for i in range(hp.num_decoder_layers)]
    self.encoder_norm = keras.layers.LayerNormalization(epsilon=1e-6,
                                                        name="encoder_ln")
    self.decoder_norm = keras.layers.LayerNormalization(epsilon=1e-6,
                                                        name="decoder_ln")
    self.drop = keras.layers.Dropout(hp.dropout)

  def build(self, input_shape):
    del input_shape  # sublayers build on their first call

  def encode_body(self, inputs, mask, problem, training):
    bias = common.padding_bias(mask)
    x = self.drop(common.add_timing_signal(inputs), training=training)
    for layer in self.encoder_layers:
      x = layer(x, bias, training=training)
    return {"output": self.encoder_norm(x), "bias": bias}, {}

  def decode_body(self, decoder_inputs, state, problem, training):
    length = tf.shape(decoder_inputs)[1]
    x = self.drop(common.add_timing_signal(decoder_inputs), training=training)
    self_bias = common.causal_bias(length)
    for layer in self.decoder_layers:
      x, _ = layer(x, state["output"], self_bias, state["bias"],
                   training=training)
    return self.decoder_norm(x), {}

  # --- incremental decoding -------------------------------------------------
  def init_cache(self, state, problem, batch, max_len):
    del max_len  # the self-attention caches grow a position a step
    dtype = state["output"].dtype
    # Per source, shared by its beams (search.STATIC): the source mask.
    cache = {search.STATIC: {"bias": state["bias"]}}
    for n, layer in enumerate(self.decoder_layers):
      k, v = layer.src_attn.fn.memory_kv(state["output"])
      cache[f"layer_{n}"] = {**layer.self_attn.fn.empty_cache(batch, dtype),
                             search.STATIC: {"k": k, "v": v}}
    return cache

  def decode_step(self, state, prev_ids, i, cache, problem):
    target_mod = self.target_modality(problem)
    batch = tf.shape(prev_ids)[0]
    emb = target_mod.targets_bottom(prev_ids[:, None], False)
    task = tf.cast(self.task_vector(problem, batch), emb.dtype)[:, None]
    x = tf.where(i > 0, emb, task)
    x = x + tf.cast(common.timing_signal(1, x.shape[-1], start=i),
                    x.dtype)[None]
    new_cache = {search.STATIC: cache[search.STATIC]}
    for n, layer in enumerate(self.decoder_layers):
      c = cache[f"layer_{n}"]
      src = c[search.STATIC]
      # No self-attention mask: the cache holds positions < i only.
      x, kv = layer(x, None, None, cache[search.STATIC]["bias"],
                    cache={"k": c["k"], "v": c["v"]},
                    src_kv=(src["k"], src["v"]))
      new_cache[f"layer_{n}"] = {**kv, search.STATIC: src}
    x = self.decoder_norm(x)
    logits = target_mod.top(x, False, context=state["context"])
    return logits[:, 0, :], new_cache
