"""Text: subword (or byte) ids of the problem's vocabulary.

Inputs: a line, encoded and cut to max_length - 1 pieces plus EOS. Targets:
ids decoded to a line. The graph forms run sentencepiece in-graph through
tensorflow-text's SentencepieceTokenizer (the same C++ library as the
decoder's SubwordVocab, so normalisation and segmentation are identical by
construction); byte vocabularies need no library.
"""
import numpy as np

from t2tlite import registry
from t2tlite import system_deps
from t2tlite.data import problem as problem_lib
from t2tlite.data import vocab as vocab_lib
from t2tlite.data.codecs import base


@registry.register_codec("text")
class TextCodec(base.Codec):
  """Text in the problem's vocabulary, on either side."""

  raw_kind = "text"

  @property
  def vocab(self):
    return problem_lib.vocab(self.problem, self.vocab_dir)

  # --- storage: the ids of this side, EOS-terminated -------------------------
  def encode(self, value):
    """A string -> its ids and EOS; ids already encoded (ints) are kept
    as they are (EOS included)."""
    return {self.key: encode_ids(self.vocab, value, self.problem)}

  # --- reading: the stored ids of this side ---------------------------------
  def feature_spec(self):
    import tensorflow as tf
    return {self.key: tf.io.VarLenFeature(tf.int64)}

  def to_model(self, example, config, training, seed=None):
    return example[self.key]

  def batching(self, config):
    """Bucketed by length, about batch_size tokens per batch."""
    import tensorflow as tf
    return base.BatchSide(length=lambda x: tf.shape(x)[0],
                          max_length=config.max_length,
                          budget=config.batch_size)

  def stored_length(self, example):
    return len(example[self.key])

  # --- inputs ---------------------------------------------------------------
  def from_line(self, line, config):
    ids = self.vocab.encode(line)
    limit = config.max_length - 1
    warning = None
    if len(ids) > limit:
      warning = f"input of {len(ids)} tokens truncated to {limit}"
    ids = ids[:limit] + [vocab_lib.EOS_ID]
    return np.array(ids, np.int64), warning

  def graph_inputs(self, config):
    if isinstance(self.vocab, vocab_lib.CharVocab):
      raise base.ExportError(f"problem '{self.problem.name}': byte inputs "
                             "cannot be exported")
    tokenizer = self._tokenizer()
    return (lambda s: encode_text(tokenizer, s, config.max_length),
            np.zeros([1], np.int64))

  # --- targets --------------------------------------------------------------
  def to_text(self, output, decode_hparams, line=None):
    return self.vocab.decode(output)

  def reference(self, record):
    return self.vocab.decode(record[self.key])

  def decode_length(self, inputs_length, extra_length=50):
    if self.partner == "text":
      return min(self.problem.max_decode_length, inputs_length + extra_length)
    return self.problem.max_decode_length

  def graph_text(self):
    if isinstance(self.vocab, vocab_lib.LowerCharVocab):
      return decode_lower_chars
    if isinstance(self.vocab, vocab_lib.CharVocab):
      return decode_chars
    tokenizer = self._tokenizer()
    return lambda ids: decode_subwords(tokenizer, ids)

  @property
  def needs_tensorflow_text(self):
    return not isinstance(self.vocab, (vocab_lib.CharVocab,
                                       vocab_lib.LowerCharVocab))

  def _tokenizer(self):
    tokenizer = sentencepiece_tokenizer(self.vocab.path)
    self.graph_resources.append(tokenizer)
    return tokenizer


@registry.register_codec("transcript")
class TranscriptCodec(TextCodec):
  """Speech targets: written like text, scored against the transcript as
  spoken (the stored "transcript" string), not its encoding.

  The stored targets are subword ids; with a byte vocabulary (a character
  twin of the problem) the model's targets are the transcript's UTF-8
  bytes, derived here, so both twins share one set of files.
  """

  def encode(self, value):
    """A transcript -> itself and its subword ids (EOS-terminated)."""
    if not isinstance(value, str):
      raise ValueError(f"{self.problem.name}: a transcript must be a str, "
                       f"not {type(value).__name__}")
    return {"transcript": value,
            "targets": encode_ids(self.vocab, value, self.problem)}

  def feature_spec(self):
    import tensorflow as tf
    return {"transcript": tf.io.FixedLenFeature([], tf.string),
            "targets": tf.io.VarLenFeature(tf.int64)}

  def to_model(self, example, config, training, seed=None):
    import tensorflow as tf
    if isinstance(self.vocab, vocab_lib.LowerCharVocab):
      return tf.concat([lower_char_ids(example["transcript"]),
                        [vocab_lib.EOS_ID]], axis=0)
    if not isinstance(self.vocab, vocab_lib.CharVocab):
      return example["targets"]
    # CharVocab: UTF-8 bytes shifted by 3, then EOS.
    chars = tf.cast(tf.io.decode_raw(example["transcript"], tf.uint8),
                    tf.int64) + 3
    return tf.concat([chars, [vocab_lib.EOS_ID]], axis=0)

  def stored_length(self, example):
    return len(example["targets"])

  def reference(self, record):
    text = record["transcript"]
    return text.decode("utf-8") if isinstance(text, bytes) else str(text)


def encode_ids(vocab, value, problem):
  """A raw text value -> stored ids: a str is encoded and given EOS; a
  list of ints is taken as ids already encoded."""
  if isinstance(value, str):
    return vocab.encode(value) + [vocab_lib.EOS_ID]
  if isinstance(value, (list, tuple, np.ndarray)) and all(
      isinstance(i, (int, np.integer)) for i in value):
    return [int(i) for i in value]
  raise ValueError(f"{problem.name}: a text value must be a str or a list "
                   f"of ids, not {type(value).__name__}")


# --- graph ops ----------------------------------------------------------------
def sentencepiece_tokenizer(model_path):
  """tensorflow-text's tokenizer holding the vocabulary's serialised model."""
  import tensorflow as tf
  text = system_deps.require_module(
      "tensorflow_text", "tensorflow-text",
      "exporting text problems (in-graph sentencepiece)")
  with open(model_path, "rb") as f:
    proto = f.read()
  return text.SentencepieceTokenizer(model=proto, out_type=tf.int32)


def encode_text(tokenizer, strings, max_length):
  """Strings [B] -> ids [B, T] int64: TextCodec.from_line in-graph.

  The decoder strips the trailing newline, keeps max_length - 1 pieces and
  appends EOS; blank inputs get just EOS here (the caller blanks their
  outputs, as the decoder leaves blank lines blank).
  """
  import tensorflow as tf
  strings = tf.strings.regex_replace(strings, "\n+$", "")
  ids = tokenizer.tokenize(strings)[:, :max_length - 1]
  eos = tf.fill([tf.shape(strings)[0], 1], vocab_lib.EOS_ID)
  ids = tf.concat([ids, tf.RaggedTensor.from_tensor(eos)], axis=1)
  return tf.cast(ids.to_tensor(), tf.int64)


def _before_eos(ids):
  """ids [B, T] -> ragged [B, (t)]: the pieces before the first EOS, >= 2.

  That is SubwordVocab.decode's filter: padding and EOS never reach the
  detokenizer, unknown pieces (id 2) do.
  """
  import tensorflow as tf
  ids = tf.cast(ids, tf.int32)
  seen_eos = tf.cumsum(tf.cast(tf.equal(ids, vocab_lib.EOS_ID), tf.int32),
                       axis=1) > 0
  keep = (~seen_eos) & (ids >= vocab_lib.UNK_ID)
  return tf.ragged.boolean_mask(ids, keep)


def decode_subwords(tokenizer, ids):
  """Generated ids [B, T] -> strings [B], as SubwordVocab.decode."""
  return tokenizer.detokenize(_before_eos(ids))


def decode_chars(ids):
  """Generated ids [B, T] -> strings [B], as CharVocab.decode (bytes + 3)."""
  import tensorflow as tf
  ids = _before_eos(ids)
  keep = tf.ragged.boolean_mask(ids, ids >= 3)
  table = tf.constant([bytes([b]) for b in range(256)])
  raw = tf.strings.reduce_join(tf.gather(table, keep - 3), axis=1)
  return tf.strings.unicode_transcode(raw, "UTF-8", "UTF-8",
                                      errors="replace",
                                      replacement_char=0xFFFD)


def lower_char_ids(text):
  """A transcript (scalar string) -> int64 ids [T] of LowerCharVocab, in
  graph: the same normalisation as t2tlite.metrics.wer.normalize for ASCII
  text (a non-ASCII character becomes one space here, UNK_ID in
  LowerCharVocab.encode; the speech problems' transcripts are ASCII)."""
  import tensorflow as tf
  t = tf.strings.lower(text)
  t = tf.strings.regex_replace(t, "[^a-z0-9' ]", " ")
  # An apostrophe is kept only between word characters (not a quote).
  t = tf.strings.regex_replace(t, "(^|[^a-z0-9])'+", "\\1 ")
  t = tf.strings.regex_replace(t, "'+([^a-z0-9]|$)", " \\1")
  t = tf.strings.strip(tf.strings.regex_replace(t, " +", " "))
  alphabet = vocab_lib.LowerCharVocab.alphabet
  table = np.full([256], vocab_lib.UNK_ID, np.int64)
  for i, c in enumerate(alphabet):
    table[ord(c)] = i + 3
  raw = tf.cast(tf.io.decode_raw(t, tf.uint8), tf.int32)
  return tf.gather(tf.constant(table), raw)


def decode_lower_chars(ids):
  """Generated ids [B, T] -> strings [B], as LowerCharVocab.decode."""
  import tensorflow as tf
  ids = _before_eos(ids)
  size = vocab_lib.LowerCharVocab.size
  keep = tf.ragged.boolean_mask(ids, (ids >= 3) & (ids < size))
  table = tf.constant([c.encode() for c in vocab_lib.LowerCharVocab.alphabet])
  return tf.strings.reduce_join(tf.gather(table, keep - 3), axis=1)
