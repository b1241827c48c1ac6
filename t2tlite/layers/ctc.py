"""Joint CTC-attention (Kim, Hori and Watanabe 2017): a CTC loss on the
encoder output of audio inputs, added to the attention decoder's loss.

An attention decoder can lower its loss a long way by learning the language
of the transcripts alone, without ever attending to the audio (it then
writes the same sentence for every clip). CTC cannot: it scores the
transcript from the encoder frames only, left to right, so the encoder must
carry the tokens in order, which is also what the decoder's attention then
finds. The paper's objective is lambda * CTC + (1 - lambda) * attention;
here the attention loss keeps weight 1 and `ctc_weight` * CTC is added to
the aux losses, so ctc_weight=0 is exactly the model without it.

The head is one dense projection from the encoder state to the target
vocabulary. Its blank is id 0, the padding id, which no label ever holds;
so "vocabulary + blank" needs no extra class. Labels are the target ids
other than padding (0) and EOS (1). Logit lengths come from the input
modality's mask (`output_mask`), so padding frames never count. An
utterance too short for its transcript (fewer frames than labels plus
repeated neighbours, where CTC has no path and its loss is infinite), and
one without labels, gets weight 0: it adds neither loss nor gradient.

The loss is summed over the batch and divided by the number of labels, so
it is per token like the attention loss it is added to.
"""
import keras
import tensorflow as tf

from t2tlite.data import vocab as vocab_lib

BLANK_ID = vocab_lib.PAD_ID
AUDIO_MODALITIES = ("audio", "audio_waveform")
AUX_NAME = "ctc_loss"


def applies(spec):
  """True for problems that get the CTC loss: audio in, a sequence out."""
  return (spec.input_modality in AUDIO_MODALITIES and
          spec.target_modality == "text")


def head_key(spec):
  """Problems with the same output vocabulary share one head."""
  return f"{spec.target_vocab_name}|{spec.target_vocab_size}"


def labels_and_lengths(targets):
  """Target ids [B, L] (EOS-terminated, 0-padded) -> (labels [B, L] int32
  with 0 wherever there is no label, label lengths [B] int32, repeats [B]
  int32: neighbouring equal labels, each of which needs a blank between
  them in any CTC path)."""
  targets = tf.cast(targets, tf.int32)
  is_label = targets > vocab_lib.EOS_ID
  labels = tf.where(is_label, targets, 0)
  lengths = tf.reduce_sum(tf.cast(is_label, tf.int32), axis=1)
  same = ((labels[:, 1:] == labels[:, :-1]) & is_label[:, 1:] &
          is_label[:, :-1])
  repeats = tf.reduce_sum(tf.cast(same, tf.int32), axis=1)
  return labels, lengths, repeats


def ctc_loss(logits, mask, targets):
  """Per-example CTC losses and their label counts.

  logits [B, T, V] (blank = id 0), mask [B, T] (True = a real frame; the
  logit length is one past the last real frame), targets [B, L].
  Returns (loss [B] float32, 0 for an infeasible example; labels [B]
  float32, the label count of each feasible example, else 0).
  """
  labels, lengths, repeats = labels_and_lengths(targets)
  mask = tf.cast(mask, tf.int32)
  positions = tf.range(1, tf.shape(mask)[1] + 1)[None, :]
  logit_length = tf.reduce_max(mask * positions, axis=1)
  feasible = ((logit_length >= lengths + repeats) & (logit_length > 0) &
              (lengths > 0))
  # The CTC op rejects empty label sequences: the others get one dummy
  # label (EOS) over at least one frame, and weight 0 below.
  dummy = tf.one_hot(tf.zeros_like(lengths), tf.shape(labels)[1],
                     on_value=vocab_lib.EOS_ID, off_value=0, dtype=tf.int32)
  labels = tf.where(feasible[:, None], labels, dummy)
  loss = tf.nn.ctc_loss(
      labels=tf.sparse.from_dense(labels),
      logits=tf.cast(logits, tf.float32), label_length=None,
      logit_length=tf.maximum(logit_length, 1), logits_time_major=False,
      blank_index=BLANK_ID)
  weight = tf.cast(feasible, tf.float32)
  return loss * weight, tf.cast(lengths, tf.float32) * weight


class CTCHead(keras.layers.Layer):
  """Encoder state [B, T, d] -> CTC logits [B, T, vocab_size] (0 = blank)."""

  def __init__(self, vocab_size, **kwargs):
    super().__init__(**kwargs)
    self.vocab_size = vocab_size
    self.project = keras.layers.Dense(vocab_size, name="project")

  def get_config(self):
    return {**super().get_config(), "vocab_size": self.vocab_size}

  def call(self, encoded, mask, targets):
    """Returns the CTC loss per label (a scalar, float32)."""
    logits = self.project(encoded)
    loss, labels = ctc_loss(logits, mask, targets)
    return tf.reduce_sum(loss) / tf.maximum(tf.reduce_sum(labels), 1.0)


def make_heads(hparams, specs):
  """{head key: CTCHead} for the audio problems among `specs`; empty (and
  no variables anywhere) unless hparams ctc_weight > 0."""
  if hparams.ctc_weight <= 0:
    return {}
  heads = {}
  for spec in specs:
    if applies(spec) and head_key(spec) not in heads:
      heads[head_key(spec)] = CTCHead(spec.target_vocab_size,
                                      name=f"ctc_head_{len(heads)}")
  return heads


def aux_losses(model, problem, state, features):
  """{AUX_NAME: ctc_weight * CTC per label} for an audio problem of a model
  built with heads (T2TModel.call adds it to its aux losses), else {}.
  The encoder state is state["output"]; the frame mask is the input
  modality's (its `output_mask(inputs)`)."""
  heads = getattr(model, "ctc_heads", None)
  spec = model.specs[problem]
  if not heads or not applies(spec):
    return {}
  mask = model.input_modality(problem).output_mask(features["inputs"])
  loss = heads[head_key(spec)](state["output"], mask, features["targets"])
  return {AUX_NAME: model.hparams.ctc_weight * loss}


# --- decoding -----------------------------------------------------------------
def has_head(model, problem):
  """Whether the model has a CTC head for this problem."""
  heads = getattr(model, "ctc_heads", None)
  return bool(heads) and applies(model.specs[problem])


def head_logits(model, problem, state, inputs):
  """(CTC logits [B, T, V] float32, frame mask [B, T]) of an audio problem
  of a model built with CTC heads; None for any other."""
  if not has_head(model, problem):
    return None
  mask = model.input_modality(problem).output_mask(inputs)
  head = model.ctc_heads[head_key(model.specs[problem])]
  logits = head.project(state["output"])
  return tf.cast(logits, tf.float32), mask


def greedy_ids(logits, mask, max_len):
  """Best-path CTC decoding: per frame the most likely class, repeats
  merged, blanks dropped, then EOS; ids [B, max_len] int32, 0-padded (an
  output longer than max_len - 1 is cut there)."""
  best = tf.argmax(logits, axis=-1, output_type=tf.int32)
  best = tf.where(tf.cast(mask, tf.bool), best, BLANK_ID)
  prev = tf.pad(best[:, :-1], [[0, 0], [1, 0]], constant_values=BLANK_ID)
  keep = (best != BLANK_ID) & (best != prev)
  ragged = tf.ragged.boolean_mask(best, keep)[:, :max_len - 1]
  eos = tf.fill([tf.shape(best)[0], 1], vocab_lib.EOS_ID)
  ids = tf.concat([ragged, tf.RaggedTensor.from_tensor(eos)], axis=1)
  return ids.to_tensor(shape=[None, max_len])


def sequence_logp(logits, mask, ids):
  """log p_CTC(ids | frames) [B] of candidate ids [B, L] (EOS-terminated,
  0-padded); -1e9 where no CTC path exists (more labels than frames)."""
  loss, labels = ctc_loss(logits, mask, ids)
  has_labels = labels > 0
  _, lengths, _ = labels_and_lengths(ids)
  feasible = has_labels | tf.equal(lengths, 0)
  # An empty candidate: the all-blank path.
  blank_logp = tf.nn.log_softmax(logits)[:, :, BLANK_ID]
  empty = tf.reduce_sum(blank_logp * tf.cast(mask, tf.float32), axis=1)
  logp = tf.where(tf.equal(lengths, 0), empty, -loss)
  return tf.where(feasible, logp, -1e9)


def beam_ids(logits, mask, beam, top_paths, max_len):
  """CTC prefix beam search (tf.nn.ctc_beam_search_decoder): the
  `top_paths` best label sequences, ids [B, top_paths, max_len] int32 with
  EOS, 0-padded. TF's op puts the blank last; ours is id 0, so the classes
  are rotated in and the ids back out."""
  rotated = tf.concat([logits[:, :, 1:], logits[:, :, :1]], axis=-1)
  lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
  decoded, _ = tf.nn.ctc_beam_search_decoder(
      tf.transpose(rotated, [1, 0, 2]), lengths, beam_width=beam,
      top_paths=top_paths)
  batch = tf.shape(logits)[0]
  out = []
  for sparse in decoded:
    dense = tf.sparse.to_dense(sparse, default_value=-1)[:, :max_len - 1] + 1
    dense = tf.pad(dense, [[0, batch - tf.shape(dense)[0]],
                           [0, max_len - tf.shape(dense)[1]]])
    # The first padding position of each row becomes EOS.
    n = tf.reduce_sum(tf.cast(dense > 0, tf.int32), axis=1)
    dense = dense + tf.one_hot(n, max_len, on_value=vocab_lib.EOS_ID,
                               off_value=0, dtype=dense.dtype)
    out.append(tf.cast(dense, tf.int32))
  return tf.stack(out, axis=1)
