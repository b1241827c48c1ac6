"""The MultiModel (Kaiser et al. 2017, "One Model To Learn Them All").

Modality nets (built by T2TModel) map every task into one representation;
the body is an encoder, an I/O mixer and an autoregressive decoder:

  encoder: 6 conv blocks ("same" padding), an MoE layer in the middle;
  mixer:   an attention block over the shifted targets (its first input is
           the task token, which T2TModel's shift puts there), attending to
           the encoder output, then 2 conv blocks;
  decoder: 4 blocks of convolutions and attention (each an attention block:
           conv blocks, masked self-attention, attention to the source), an
           MoE layer in the middle.
Every convolution of the mixer and the decoder is padded on the left only.

For class-label targets (targets_are_sequence False) the mixer and decoder
are skipped and decode_body returns the encoder output, as T2T's MultiModel
did: the class-label modality's top does the exit flow.

aux dict convention (the trainer's contract):
  "moe_importance_loss", "moe_load_loss": weighted balancing losses summed
      over the MoE layers; the trainer adds every entry not prefixed
      "moe_stat_" to the training loss.
  "moe_stat_<layer>_expert_tokens" ([E] int32, assignments each expert
      computed), "moe_stat_<layer>_dropped_tokens" (scalar int32) and
      "moe_stat_<layer>_max_load_ratio" (scalar, 1.0 = balanced), for
      <layer> in encoder, decoder: metrics only, logged, never in the loss.
"""
import keras
import tensorflow as tf

from t2tlite import model as model_lib
from t2tlite import registry
from t2tlite.decode import search
from t2tlite.layers import common
from t2tlite.models.multimodel import blocks

STAT_PREFIX = "moe_stat_"


def _collect(aux, layer_name, losses, stats):
  """Adds one MoE layer's losses (summed by kind) and stats (by layer)."""
  for kind, value in losses.items():
    key = f"moe_{kind}_loss"
    aux[key] = aux[key] + value if key in aux else value
  for kind, value in stats.items():
    aux[f"{STAT_PREFIX}{layer_name}_{kind}"] = value


@registry.register_model("multimodel")
class MultiModel(model_lib.T2TModel):
  """Conv + attention + mixture-of-experts body shared by every task."""

  @classmethod
  def cannot_jit(cls, hparams):
    if hparams.use_moe:
      # XLA needs the shapes of the MoE's dispatch (how many tokens each
      # expert gets) at compile time; they depend on the gate's choices.
      return ("XLA cannot compile a mixture of experts (its dispatch "
              "shapes depend on the data); set use_moe=false or "
              "jit_compile=false")
    return None

  def __init__(self, hparams, specs, **kwargs):
    super().__init__(hparams, specs, **kwargs)
    hp = hparams
    d = hp.hidden_size
    self.encoder_blocks = [blocks.ConvBlock(d, hp.dropout, "same",
                                            name=f"encoder_conv_{n}")
                           for n in range(hp.num_encoder_blocks)]
    # Ablation: self-attention after every second encoder conv block.
    self.encoder_attention = {
        n: blocks.SelfAttentionLayer(hp, name=f"encoder_attention_{n}")
        for n in range(1, hp.num_encoder_blocks, 2)
    } if hp.encoder_self_attention else {}
    self.encoder_experts = blocks.ExpertsLayer(hp, name="encoder_experts")
    self.encoder_norm = keras.layers.LayerNormalization(epsilon=1e-6,
                                                        name="encoder_ln")
    self.mixer_attention = blocks.AttentionBlock(
        hp, hp.attention_conv_blocks, name="mixer_attention")
    self.mixer_convs = [blocks.ConvBlock(d, hp.dropout, "causal",
                                         name=f"mixer_conv_{n}")
                        for n in range(hp.mixer_conv_blocks)]
    self.decoder_blocks = [
        blocks.AttentionBlock(hp, hp.attention_conv_blocks,
                              use_attention=hp.decoder_attention,
                              name=f"decoder_block_{n}")
        for n in range(hp.num_decoder_blocks)]
    self.decoder_experts = blocks.ExpertsLayer(hp, name="decoder_experts")
    self.decoder_norm = keras.layers.LayerNormalization(epsilon=1e-6,
                                                        name="decoder_ln")
    self.drop = keras.layers.Dropout(hp.dropout)

  def build(self, input_shape):
    # Sublayers build on their first call; with class labels only, the
    # mixer and decoder never run, so they are never built.
    del input_shape

  def _is_sequence(self, problem):
    return self.target_modality(problem).targets_are_sequence

  # --- encoder --------------------------------------------------------------
  def encode_body(self, inputs, mask, problem, training):
    valid = tf.cast(mask, inputs.dtype)[..., None]
    bias = common.padding_bias(mask)
    x = self.drop(inputs, training=training) * valid
    aux = {}
    middle = len(self.encoder_blocks) // 2
    for n, block in enumerate(self.encoder_blocks):
      if n == middle:
        x, losses, stats = self.encoder_experts(x, mask, training=training)
        _collect(aux, "encoder", losses, stats)
      x = block(x, mask, training=training)
      if n in self.encoder_attention:
        x = self.encoder_attention[n](x, bias, training=training)
    output = self.encoder_norm(x) * valid
    return {"output": output, "bias": bias}, aux

  # --- mixer and decoder, whole sequence ------------------------------------
  def decode_body(self, decoder_inputs, state, problem, training):
    if not self._is_sequence(problem):
      return state["output"], {}
    source, bias = state["output"], state["bias"]
    x = self.drop(decoder_inputs, training=training)
    x = self.mixer_attention(x, source, bias, training=training)
    for conv in self.mixer_convs:
      x = conv(x, training=training)
    aux = {}
    middle = len(self.decoder_blocks) // 2
    for n, block in enumerate(self.decoder_blocks):
      if n == middle:
        x, losses, stats = self.decoder_experts(x, training=training)
        _collect(aux, "decoder", losses, stats)
      x = block(x, source, bias, training=training)
    return self.decoder_norm(x), aux

  # --- incremental decoding: one position of work per token -----------------
  def init_cache(self, state, problem, batch, max_len):
    if not self._is_sequence(problem):
      return super().init_cache(state, problem, batch, max_len)
    source = state["output"]
    # Per source, shared by its beams (search.STATIC): the source mask.
    cache = {search.STATIC: {"bias": state["bias"]},
             "mixer_attention": self.mixer_attention.init_cache(
                 source, batch, max_len)}
    for n, conv in enumerate(self.mixer_convs):
      cache[f"mixer_conv_{n}"] = conv.init_cache(batch, source.dtype)
    for n, block in enumerate(self.decoder_blocks):
      cache[f"decoder_block_{n}"] = block.init_cache(source, batch, max_len)
    return cache

  def decode_step(self, state, prev_ids, i, cache, problem):
    target_mod = self.target_modality(problem)
    if not self._is_sequence(problem):  # one label: just the exit flow.
      logits = target_mod.top(state["output"], False,
                              context=state["context"])
      return tf.reshape(logits, [tf.shape(logits)[0], -1]), cache
    batch = tf.shape(prev_ids)[0]
    emb = target_mod.targets_bottom(prev_ids[:, None], False)
    task = tf.cast(self.task_vector(problem, batch), emb.dtype)[:, None]
    x = tf.where(i > 0, emb, task)  # position 0 holds the task token
    bias = cache[search.STATIC]["bias"]
    new = {search.STATIC: cache[search.STATIC]}
    x, new["mixer_attention"] = self.mixer_attention.step(
        x, i, cache["mixer_attention"], bias)
    for n, conv in enumerate(self.mixer_convs):
      x, new[f"mixer_conv_{n}"] = conv.step(x, cache[f"mixer_conv_{n}"])
    middle = len(self.decoder_blocks) // 2
    for n, block in enumerate(self.decoder_blocks):
      if n == middle:  # the MoE routes the single new position
        x, _, _ = self.decoder_experts(x, training=False)
      key = f"decoder_block_{n}"
      x, new[key] = block.step(x, i, cache[key], bias)
    x = self.decoder_norm(x)
    logits = target_mod.top(x, False, context=state["context"])
    return logits[:, 0, :], new
