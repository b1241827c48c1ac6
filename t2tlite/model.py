"""The model API: modality nets around a body, and the decoding interface.

A model sees problems only as `ProblemSpec`s. For each it builds (or shares)
the input and target modality nets, and a learned task-token embedding that
is the first decoder input (the paper's To-German, To-Parse-Tree, ...).
Subclasses implement `encode_body` and `decode_body`; they may override
`init_cache` / `decode_step` with an incremental decoder. The decoding
contract: `init_cache(state, problem, batch, max_len)` gets the state of the
B sources and batch = B x beams rows, the beams of source 0 first; each
`decode_step` gets that state tiled to the batch rows (search.tile_beams),
so per-source tensors can be kept once per source in the cache's
search.STATIC part.

Precision is a per-model Keras dtype policy (see `set_precision`), never
Keras' global one, so models of different precisions share a process.
"""
import keras
import tensorflow as tf

from t2tlite import modality as modality_lib
from t2tlite import problem as problem_lib


# hparams.mixed_precision -> the Keras dtype policy of the model's layers.
PRECISIONS = {"": "float32", "float32": "float32",
              "bfloat16": "mixed_bfloat16"}


def dtype_policy_name(mixed_precision):
  """The Keras policy for a `mixed_precision` value; ValueError if unknown.

  Run configs written before the setting was a string stored a bool
  (False: float32; True: bfloat16).
  """
  if isinstance(mixed_precision, bool):
    return "mixed_bfloat16" if mixed_precision else "float32"
  if mixed_precision not in PRECISIONS:
    allowed = ", ".join(repr(k) for k in PRECISIONS)
    raise ValueError(f"unknown mixed_precision {mixed_precision!r}: use one "
                     f"of {allowed} ('' means float32)")
  return PRECISIONS[mixed_precision]


def set_precision(model, mixed_precision):
  """Sets the dtype policy of every layer of `model`, before its steps are
  traced (before or after it is built: variables are float32 either way).

  Keras 3 gives each layer the global policy of the moment it is created and
  does not pass a model's policy down to its sublayers, so the policy is set
  on each layer here rather than globally around construction. Layers with
  `keep_float32 = True` (numerically delicate ones, such as MoE routing)
  stay float32 throughout.
  """
  policy = dtype_policy_name(mixed_precision)
  for layer in model._flatten_layers(include_self=True, recursive=True):  # pylint: disable=protected-access
    layer.dtype_policy = ("float32" if getattr(layer, "keep_float32", False)
                          else policy)
  return model


def shift_right(x, first):
  """[B, T, d] -> [B, T, d] with `first` [B, d] at position 0."""
  return tf.concat([first[:, None, :], x[:, :-1, :]], axis=1)


class T2TModel(keras.Model):
  """Base of every registered model."""

  def __init__(self, hparams, specs, **kwargs):
    super().__init__(**kwargs)
    self.hparams = hparams
    self.specs = {s.name: s for s in specs}
    self.modality_nets = {}
    for spec in specs:
      for name, size in ((spec.input_modality, spec.input_vocab_size),
                         (spec.target_modality, spec.target_vocab_size)):
        key = self.modality_key(name, size)
        if key not in self.modality_nets:
          self.modality_nets[key] = modality_lib.create(name, hparams, size)
    self.task_embedding = keras.layers.Embedding(
        problem_lib.MAX_TASK_TOKENS, hparams.hidden_size,
        embeddings_initializer=keras.initializers.RandomNormal(
            stddev=hparams.hidden_size ** -0.5), name="task_token")

  @staticmethod
  def modality_key(name, size):
    return f"{name}_{size}"

  def input_modality(self, problem):
    s = self.specs[problem]
    return self.modality_nets[self.modality_key(s.input_modality,
                                                s.input_vocab_size)]

  def target_modality(self, problem):
    s = self.specs[problem]
    return self.modality_nets[self.modality_key(s.target_modality,
                                                s.target_vocab_size)]

  def task_vector(self, problem, batch):
    token = tf.fill([batch], self.specs[problem].task_token_id)
    return self.task_embedding(token)

  # --- subclasses -----------------------------------------------------------
  def encode_body(self, inputs, mask, problem, training):
    """([B, S, d], [B, S]) -> dict of encoder state (tensors) and aux losses.

    Returns (state, aux_losses) where aux_losses maps names to scalars.
    """
    raise NotImplementedError

  def decode_body(self, decoder_inputs, state, problem, training):
    """Shifted target embeddings [B, T, d] -> (output [B, T, d], aux)."""
    raise NotImplementedError

  # --- training -------------------------------------------------------------
  def encode(self, inputs, problem, training=False):
    x, mask, context = self.input_modality(problem).bottom(inputs, training)
    state, aux = self.encode_body(x, mask, problem, training)
    state = dict(state)
    state["context"] = context
    return state, aux

  def call(self, features, problem=None, training=False):
    """Returns (logits, aux_losses) for teacher-forced targets."""
    state, aux = self.encode(features["inputs"], problem, training)
    target_mod = self.target_modality(problem)
    targets = features["targets"]
    if not target_mod.targets_are_sequence:
      targets = tf.reshape(targets, [-1, 1])
    emb = target_mod.targets_bottom(targets, training)
    dec_in = shift_right(emb, tf.cast(self.task_vector(
        problem, tf.shape(targets)[0]), emb.dtype))
    out, aux2 = self.decode_body(dec_in, state, problem, training)
    logits = target_mod.top(out, training, context=state["context"])
    # Losses and softmaxes need float32 logits whatever the compute dtype.
    return tf.cast(logits, tf.float32), {**aux, **aux2}

  # --- decoding: full recomputation by default ------------------------------
  def init_cache(self, state, problem, batch, max_len):
    return {"ids": tf.zeros([batch, max_len], tf.int32)}

  def decode_step(self, state, prev_ids, i, cache, problem):
    """Logits [B, V] for position i, given the token at i - 1 (prev_ids)."""
    ids = cache["ids"]
    max_len = tf.shape(ids)[1]
    pos = tf.one_hot(tf.maximum(i - 1, 0), max_len, dtype=tf.int32)
    write = tf.cast(i > 0, tf.int32) * pos[None, :]
    ids = ids * (1 - write) + tf.cast(prev_ids, tf.int32)[:, None] * write
    target_mod = self.target_modality(problem)
    emb = target_mod.targets_bottom(ids, False)
    dec_in = shift_right(emb, tf.cast(self.task_vector(
        problem, tf.shape(ids)[0]), emb.dtype))
    out, _ = self.decode_body(dec_in, state, problem, False)
    out_i = tf.gather(out, [i], axis=1)
    logits = target_mod.top(out_i, False, context=state["context"])
    return tf.cast(logits[:, 0, :], tf.float32), {"ids": ids}


def structured_variables(layer, prefix=""):
  """Every variable (and dropout seed) of a layer tree, by structural key.

  Keys follow the order sublayers were assigned in __init__ and their class
  names, never Keras' process-global auto names, so the trainer and a later
  decoder (even in the same process) agree on them. TF's object-graph
  checkpointing does not see layers held in Keras' tracked lists and dicts,
  which is why checkpoints use this map instead.
  """
  out = {}
  own = list(layer._trainable_variables) + list(  # pylint: disable=protected-access
      layer._non_trainable_variables)  # pylint: disable=protected-access
  for i, v in enumerate(own):
    out[f"{prefix}v{i}_{v.name}"] = v
  for j, sg in enumerate(layer._seed_generators):  # pylint: disable=protected-access
    out[f"{prefix}seed{j}"] = sg.state
  for k, sub in enumerate(layer._layers):  # pylint: disable=protected-access
    out.update(structured_variables(sub, f"{prefix}{k}_{type(sub).__name__}."))
  return out
