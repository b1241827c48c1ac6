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

from t2tlite import errors
from t2tlite import modality as modality_lib
from t2tlite.data import problem as problem_lib
from t2tlite.data import vocab as vocab_lib


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

  @classmethod
  def cannot_jit(cls, hparams):
    """Why XLA cannot compile this model's train step with these hparams
    (a sentence), or None."""
    del hparams
    return None

  def __init__(self, hparams, specs, **kwargs):
    super().__init__(**kwargs)
    self.hparams = hparams
    self.specs = {s.name: s for s in specs}
    self.modality_nets = {}
    for spec in specs:
      for key, name, size in ((self._input_key(spec), spec.input_modality,
                               spec.input_vocab_size),
                              (self._target_key(spec), spec.target_modality,
                               spec.target_vocab_size)):
        if key not in self.modality_nets:
          self.modality_nets[key] = modality_lib.create(name, hparams, size)
    self.task_embedding = keras.layers.Embedding(
        problem_lib.MAX_TASK_TOKENS, hparams.hidden_size,
        embeddings_initializer=keras.initializers.RandomNormal(
            stddev=hparams.hidden_size ** -0.5), name="task_token")
    # Joint CTC-attention for audio inputs (t2tlite/layers/ctc.py): no
    # layer, no variable unless hparams ctc_weight > 0.
    from t2tlite.layers import ctc  # pylint: disable=import-outside-toplevel
    self.ctc_heads = ctc.make_heads(hparams, specs)

  @staticmethod
  def modality_key(name, vocab_name, size):
    """One modality net per modality and vocabulary (or label set): keyed by
    what it encodes, so two vocabularies of equal size never share one.
    Runs written before specs named label sets have vocab_name "" there."""
    return f"{name}|{vocab_name}|{size}"

  def _input_key(self, spec):
    return self.modality_key(spec.input_modality, spec.input_vocab_name,
                             spec.input_vocab_size)

  def _target_key(self, spec):
    return self.modality_key(spec.target_modality, spec.target_vocab_name,
                             spec.target_vocab_size)

  def input_modality(self, problem):
    return self.modality_nets[self._input_key(self.specs[problem])]

  def target_modality(self, problem):
    return self.modality_nets[self._target_key(self.specs[problem])]


  def build_from_specs(self):
    """Creates every variable from the problems' specs alone: one forward
    pass per problem on the modalities' example inputs, no data needed.

    A trained run's output_dir holds the specs (t2tlite_run.json), so a
    copied run builds exactly the model that was trained and restores it
    without its data_dir.
    """
    for name, spec in self.specs.items():
      features = {"inputs": self.input_modality(name).example_inputs(),
                  "targets": self.target_modality(name).example_targets()}
      self(features, problem=name, training=False)
    return self

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
    from t2tlite.layers import ctc  # pylint: disable=import-outside-toplevel
    aux3 = ctc.aux_losses(self, problem, state, features)
    # Losses and softmaxes need float32 logits whatever the compute dtype.
    return tf.cast(logits, tf.float32), {**aux, **aux2, **aux3}

  def score_targets(self, state, problem, targets):
    """log p(targets | inputs) [B] under the decoder, teacher-forced, from
    an encoder state [B, ...] (`encode`) and sequence targets [B, T]
    (EOS-terminated, 0-padded; positions after the first EOS ignored)."""
    targets = tf.cast(targets, tf.int64)
    target_mod = self.target_modality(problem)
    emb = target_mod.targets_bottom(targets, False)
    dec_in = shift_right(emb, tf.cast(self.task_vector(
        problem, tf.shape(targets)[0]), emb.dtype))
    out, _ = self.decode_body(dec_in, state, problem, False)
    logits = target_mod.top(out, False, context=state["context"])
    logp = tf.nn.log_softmax(tf.cast(logits, tf.float32))
    tok = tf.gather(logp, targets, batch_dims=2)
    eos = tf.cast(tf.equal(targets, vocab_lib.EOS_ID), tf.int32)
    before = tf.cumsum(eos, axis=1, exclusive=True) == 0
    keep = before & (targets > 0)
    return tf.reduce_sum(tf.where(keep, tok, 0.0), axis=1)

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


class RestoreError(errors.UserError, ValueError):
  """A checkpoint that does not hold every variable of the model."""


def _checkpoint_key(name):
  # tf.train.Checkpoint escapes "." as ".." and "/" as ".S" in dict keys.
  escaped = name.replace(".", "..").replace("/", ".S")
  return f"model/{escaped}/.ATTRIBUTES/VARIABLE_VALUE"


def restore_weights(model, path):
  """Restores the model's variables from a checkpoint, strictly.

  The model must already be built (see T2TModel.build_from_specs). Every
  model variable must be in the checkpoint: a variable left at its random
  initialisation would decode silently wrong, so that is an error naming
  the variables. Other checkpoint entries (optimiser slots, input-stream
  positions) are ignored.
  """
  variables = variable_map(model, path)
  if not variables:
    raise RestoreError("the model has no variables yet: build it before "
                       "restoring a checkpoint")
  saved = {name for name, _ in tf.train.list_variables(path)}
  missing = [k for k in variables if _checkpoint_key(k) not in saved]
  if missing:
    shown = ", ".join(missing[:5]) + (
        f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    raise RestoreError(f"checkpoint {path} does not hold {len(missing)} of "
                       f"the model's {len(variables)} variables ({shown}): "
                       "it was written by a different model or hparams")
  # Every variable is known to be there (checked above); the optimiser's
  # slots and the input streams in the file are not the model's business.
  tf.train.Checkpoint(model=variables).restore(path).expect_partial()
  return path


def structured_variables(layer, prefix="", legacy=False):
  """Every variable (and dropout seed) of a layer tree, by structural key.

  Keys follow the order sublayers were assigned in __init__ ("2.0.v1_bias":
  the third sublayer's first sublayer's second variable), never Keras'
  process-global auto names, so the trainer and a later decoder (even in
  the same process) agree on them, and never class names, so renaming a
  layer class keeps old checkpoints loadable. TF's object-graph
  checkpointing does not see layers held in Keras' tracked lists and dicts,
  which is why checkpoints use this map instead. `legacy=True` gives the
  keys of checkpoints written before 2026-12 ("2_TextModality.v0_..."),
  which spelled each sublayer's class name too.
  """
  out = {}
  own = list(layer._trainable_variables) + list(  # pylint: disable=protected-access
      layer._non_trainable_variables)  # pylint: disable=protected-access
  for i, v in enumerate(own):
    out[f"{prefix}v{i}_{v.name}"] = v
  for j, sg in enumerate(layer._seed_generators):  # pylint: disable=protected-access
    out[f"{prefix}seed{j}"] = sg.state
  for k, sub in enumerate(layer._layers):  # pylint: disable=protected-access
    part = f"{k}_{type(sub).__name__}" if legacy else f"{k}"
    out.update(structured_variables(sub, f"{prefix}{part}.", legacy))
  return out


def variable_map(model, checkpoint_path=None):
  """The model's variables keyed as the checkpoint at `checkpoint_path`
  keys them (today's keys, or the legacy ones of older runs); today's keys
  when there is no checkpoint yet."""
  current = structured_variables(model)
  if checkpoint_path is None:
    return current
  try:
    saved = {name for name, _ in tf.train.list_variables(checkpoint_path)}
  except Exception:  # pylint: disable=broad-except
    return current  # unreadable: the restore that follows reports it
  if any(_checkpoint_key(k) in saved for k in current):
    return current
  legacy = structured_variables(model, legacy=True)
  if any(_checkpoint_key(k) in saved for k in legacy):
    return legacy
  return current
