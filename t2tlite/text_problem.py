"""Text-to-text problems: pairs of strings in one subword vocabulary."""
import numpy as np

from t2tlite import problem as problem_lib
from t2tlite import vocab as vocab_lib


def bucket_boundaries(max_length, min_length=8, step=1.1):
  """Geometric bucket edges, as T2T did: few buckets, little padding."""
  edges, x = [], min_length
  while x < max_length:
    edges.append(x)
    x = max(x + 1, int(x * step))
  return edges


def batch_text(ds, batch_tokens, max_length, training, seed=0):
  """Buckets (inputs, targets) by length; each batch holds ~batch_tokens."""
  import tensorflow as tf

  def length(ex):
    return tf.maximum(tf.shape(ex["inputs"])[0], tf.shape(ex["targets"])[0])

  ds = ds.filter(lambda ex: length(ex) <= max_length)
  edges = bucket_boundaries(max_length + 1)
  sizes = [max(1, batch_tokens // e) for e in edges + [max_length + 1]]
  return ds.bucket_by_sequence_length(
      length, bucket_boundaries=edges, bucket_batch_sizes=sizes,
      padded_shapes={"inputs": [None], "targets": [None]},
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
