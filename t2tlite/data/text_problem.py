"""Text-to-text problems: pairs of strings in one subword vocabulary."""
import numpy as np

from t2tlite.data import class_label
from t2tlite.data import problem as problem_lib
from t2tlite.data import vocab as vocab_lib


def bucket_boundaries(max_length, min_length=8, step=1.1):
  """Geometric bucket edges, as T2T did: few buckets, little padding."""
  edges, x = [], min_length
  while x < max_length:
    edges.append(x)
    x = max(x + 1, int(x * step))
  return edges


def bucket_by_two_lengths(ds, lengths, caps, budgets, padded_shapes,
                          min_lengths=(8, 8)):
  """Batches examples whose two lengths (inputs, targets) fall in the same
  pair of buckets, so neither side is padded much.

  Bucketing by the longer side alone left a fifth of the shorter side's
  positions padded (a third for parsing, whose targets are longer than its
  inputs). `lengths` is a pair of functions of an example, `caps` the pair
  of largest lengths (exclusive upper edges), `budgets` the pair of
  position budgets: a bucket's batch is as large as both budgets allow at
  its upper edges. Built on group_by_window, which a checkpointed iterator
  saves and restores.
  """
  import tensorflow as tf
  edges = [bucket_boundaries(c, m) for c, m in zip(caps, min_lengths)]
  uppers = [e + [c] for e, c in zip(edges, caps)]
  sizes = tf.constant(
      [[max(1, min(budgets[0] // ua, budgets[1] // ub)) for ub in uppers[1]]
       for ua in uppers[0]], tf.int64)
  width = len(uppers[1])
  edge_tensors = [tf.constant(e, tf.int32) for e in edges]

  def bucket(n, e):
    return tf.reduce_sum(tf.cast(e <= n, tf.int64))

  def key(ex):
    return (bucket(lengths[0](ex), edge_tensors[0]) * width +
            bucket(lengths[1](ex), edge_tensors[1]))

  def size(k):
    return tf.reshape(sizes, [-1])[k]

  return ds.group_by_window(
      key, lambda k, w: w.padded_batch(size(k), padded_shapes),
      window_size_func=size)


def batch_text(ds, batch_tokens, max_length, training, seed=0):
  """Buckets (inputs, targets) by length; each batch holds ~batch_tokens.

  Training batches are bucketed by both lengths (little padding on either
  side); evaluation batches by the longer one (fewer, fuller batches).
  """
  import tensorflow as tf
  del seed  # the order is the stream's; bucketing adds no randomness
  n_in = lambda ex: tf.shape(ex["inputs"])[0]
  n_out = lambda ex: tf.shape(ex["targets"])[0]
  shapes = {"inputs": [None], "targets": [None]}
  ds = ds.filter(lambda ex: tf.maximum(n_in(ex), n_out(ex)) <= max_length)
  if training:
    return bucket_by_two_lengths(ds, (n_in, n_out), (max_length + 1,) * 2,
                                 (batch_tokens,) * 2, shapes)
  edges = bucket_boundaries(max_length + 1)
  sizes = [max(1, batch_tokens // e) for e in edges + [max_length + 1]]
  return ds.bucket_by_sequence_length(
      lambda ex: tf.maximum(n_in(ex), n_out(ex)), bucket_boundaries=edges,
      bucket_batch_sizes=sizes, padded_shapes=shapes,
      pad_to_bucket_boundary=False, drop_remainder=False)


class Text2TextProblem(problem_lib.Problem):
  """Subclasses give `source_lang`, `target_lang` and `text_pairs()`."""

  source_lang = "en"
  target_lang = "de"
  reversible = True
  metrics = ("bleu", "accuracy", "log_perplexity")

  @property
  def task_token(self):
    return "to_" + self.target_lang

  @property
  def reverse_task_token(self):
    return "to_" + self.source_lang

  def text_pairs(self, tmp_dir, split):
    """Yields (source, target) strings of one split."""
    raise NotImplementedError

  def vocab_text(self, tmp_dir):
    for src, tgt in self.text_pairs(tmp_dir, "train"):
      yield src
      yield tgt

  def generate_examples(self, data_dir, tmp_dir, split):
    vocab = self.vocab(data_dir)
    for src, tgt in self.text_pairs(tmp_dir, split):
      yield {"inputs": vocab.encode(src) + [vocab_lib.EOS_ID],
             "targets": vocab.encode(tgt) + [vocab_lib.EOS_ID]}

  def example_length(self, example):
    return max(len(example["inputs"]), len(example["targets"]))

  def batched(self, data_dir, split, hparams, training, seed=0, shard=(1, 0)):
    ds = self.dataset(data_dir, split, hparams, training, seed, shard)
    return batch_text(ds, hparams.batch_size, hparams.max_length, training,
                      seed)

  # --- decoding -------------------------------------------------------------
  def decode_input(self, line, data_dir, hparams):
    ids = self.vocab(data_dir).encode(line)
    limit = hparams.max_length - 1
    warning = None
    if len(ids) > limit:
      warning = f"input of {len(ids)} tokens truncated to {limit}"
    ids = ids[:limit] + [vocab_lib.EOS_ID]
    return np.array(ids, np.int64), warning

  def format_output(self, ids, data_dir, decode_hparams):
    return self.vocab(data_dir).decode(ids)

  def score(self, hypotheses, references):
    import sacrebleu
    bleu = sacrebleu.corpus_bleu(hypotheses, [references])
    return {"bleu": round(bleu.score, 2)}


class Text2ClassProblem(class_label.ClassLabelTargets, Text2TextProblem):
  """Text -> one of `class_names` (sentiment, topic, language...).

  Subclasses give `class_names` and `text_labels()`. The text is encoded
  like a translation source; the label is stored as a one-element target,
  so such a problem reads, batches and decodes like any text problem.
  """

  task_token = "to_label"
  reversible = False
  metrics = ("accuracy",)

  def text_labels(self, tmp_dir, split):
    """Yields (text, label) of one split; a label is a class name or its
    index in `class_names`."""
    raise NotImplementedError

  def vocab_text(self, tmp_dir):
    for text, _ in self.text_labels(tmp_dir, "train"):
      yield text

  def generate_examples(self, data_dir, tmp_dir, split):
    vocab = self.vocab(data_dir)
    for text, label in self.text_labels(tmp_dir, split):
      yield {"inputs": vocab.encode(text) + [vocab_lib.EOS_ID],
             "targets": [self.label_id(label)]}

  def example_length(self, example):
    return len(example["inputs"])
