"""What every codec is: one side of a problem's examples outside the model.

A Problem says what its data is; a codec says how one side of it (the
inputs or the targets) gets from the outside world to the model and back:

  inputs side   from_line(line, config): one decode-file line (text, or
                the path of an image or audio file) -> (model input as
                numpy, warning or None), used by t2tlite-decoder and
                t2tlite.load; graph_inputs(config): the same in TF ops on
                raw strings (text, or the file's bytes), traced into an
                exported SavedModel. Where TF ops can read every input
                the decoder accepts (images), both run one function,
                from_raw(data, config); text decodes with sentencepiece's
                Python library (the graph form needs tensorflow-text) and
                audio with Python's readers (FLAC, which TF cannot read),
                over the same feature code, and tests/serve/test_export.py
                checks each pair agrees.
  targets side  to_text(output, decode_hparams, line=None): a model output
                -> one line; reference(record): a stored example -> the
                line it is scored against; decode_length(n): the longest
                output for an input of n positions; graph_text(): ids ->
                strings in TF ops, for the SavedModel.

Both sides also write and read the stored examples. encode(value) turns
one raw value a Problem's generate_examples yields for this side (a str,
image bytes or pixels, 16 kHz PCM, a class name or index) into the stored
features datagen writes (python values; the TFRecord layout). For
training and evaluation (pipeline.batched), feature_spec() is the tf.io
parsing spec of the stored features the side reads, to_model(example,
config, training, seed) the model tensor in TF ops, batching(config) how
the side's tensors are measured and padded in a batch (a BatchSide), and
stored_length(example) the length datagen records for max_length
statistics.

`config` is always a t2tlite.configs.DataConfig (the data settings of the
run's hparams: batch sizes, length caps, image and audio settings): a
codec never reads the model's settings.

A codec is registered by name (registry.register_codec); a Problem names
its two (`codecs`; by default its modalities). A
codec with no graph form raises ExportError from its graph_* methods, so
a problem is exportable exactly when both its codecs are.
"""
import dataclasses
from typing import Callable, Optional, Tuple

from t2tlite import errors


class ExportError(errors.UserError, ValueError):
  """A problem or model that cannot be exported faithfully."""


@dataclasses.dataclass(frozen=True)
class BatchSide:
  """How one side's model tensors are batched (pipeline.batched).

  length        fn(tensor) -> its length, a scalar int tensor; None: every
                example has the same shape (an image, a label).
  max_length    longer examples are dropped.
  budget        positions per batch along `length` (0: count examples).
  batch_size    examples per batch (a fixed-shape side, e.g. images).
  min_length    the first bucket edge.
  padded_shape  the padded_batch shape of the tensor.
  """
  length: Optional[Callable] = None
  max_length: int = 0
  budget: int = 0
  batch_size: int = 0
  min_length: int = 8
  padded_shape: Tuple = (None,)


class Codec:
  """Base class. `problem` gives the settings (image size, class names,
  vocabulary...), `key` the stored feature of this side ("inputs" or
  "targets"; swapped for a _rev problem), `vocab_dir` the folder of the
  vocabularies, `partner` the modality of the other side."""

  raw_kind = None   # what an exported SavedModel takes: text/image/audio

  def __init__(self, problem, key, vocab_dir, partner):
    self.problem = problem
    self.key = key
    self.vocab_dir = vocab_dir
    self.partner = partner
    # What the graph forms built that a SavedModel must track (tokenizers).
    self.graph_resources = []

  @property
  def name(self):
    return getattr(type(self), "_registered_name", type(self).__name__)

  def _no_graph(self, what):
    raise ExportError(f"problem '{self.problem.name}': its {what} (codec "
                      f"'{self.name}') run Python code that a SavedModel "
                      "cannot hold; decode it with t2tlite-decoder or "
                      "t2tlite.load instead")

  # --- storage (both sides) --------------------------------------------------
  def encode(self, value):
    """One raw value of this side -> {stored feature: python value}."""
    raise NotImplementedError(f"codec '{self.name}' cannot store examples")

  # --- reading stored examples (both sides) -----------------------------------
  def feature_spec(self):
    """tf.io parsing spec of the stored features this side reads."""
    raise NotImplementedError(f"codec '{self.name}' cannot read records")

  def to_model(self, example, config, training, seed=None):
    """A parsed stored example -> this side's model tensor (TF ops).

    `seed` is a [2] int64 tensor, (the run's seed, the example's position
    in the stream), when `needs_seed(config, training)`; else None.
    """
    raise NotImplementedError(f"codec '{self.name}' cannot read records")

  def needs_seed(self, config, training):
    """Whether to_model draws random numbers (seeded per example)."""
    return False

  def batching(self, config):
    """How this side's tensors are measured and padded: a BatchSide."""
    raise NotImplementedError(f"codec '{self.name}' cannot read records")

  def stored_length(self, example):
    """The length of this side of a datagen example (python values) that
    max_length filters on; None: not filtered."""
    return None

  # --- inputs ---------------------------------------------------------------
  def from_line(self, line, config):
    raise NotImplementedError(f"codec '{self.name}' cannot be an input")

  def from_raw(self, data, config):
    """One raw input (a scalar tf.string) -> its model input, in TF ops."""
    self._no_graph("inputs")

  def graph_inputs(self, config):
    """(fn(strings [B]) -> model inputs [B, ...], one example input)."""
    self._no_graph("inputs")

  # --- targets --------------------------------------------------------------
  def to_text(self, output, decode_hparams, line=None):
    """The text of one decoded output. decode_hparams: the decoder's dict,
    every key of decode.decoder.decode_hparams() (top_k, tree_words, ...);
    line: the user's input line, when decoding from text."""
    raise NotImplementedError(f"codec '{self.name}' cannot be a target")

  def reference(self, record):
    raise NotImplementedError(f"codec '{self.name}' cannot be a target")

  def decode_length(self, inputs_length, extra_length=50):
    return self.problem.max_decode_length

  def grammar(self):
    """The grammar outputs must obey (e.g. tree.TreeGrammar), or None: any
    output. The decoder turns it into a search constraint."""
    return None

  def graph_text(self):
    """fn(ids [B, T]) -> strings [B], as to_text."""
    self._no_graph("outputs")

  @property
  def needs_tensorflow_text(self):
    """Whether the graph form runs tensorflow-text's sentencepiece ops."""
    return False
