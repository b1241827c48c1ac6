"""The Problem API: what a task's data is, and how it reaches a model.

A Problem declares its features and their modalities, its vocabulary, its
task token (the paper's first decoder symbol, one per output space), its
metrics, and how it generates data. It knows nothing of models: the model
sees only a `ProblemSpec` (modality names, vocabulary sizes, task token).
"""
import collections
import os

from t2tlite import registry
from t2tlite.data import data_io
from t2tlite.data import pipeline
from t2tlite.data import vocab as vocab_lib

# At most this many output spaces (the model's task-token table).
MAX_TASK_TOKENS = registry.TaskTokens.MAX


def task_token_id(name):
  """The id of a registered task token (registry.register_task_token);
  an unknown name is an error naming the nearest ones."""
  return registry.task_tokens.id(name)


ProblemSpec = collections.namedtuple("ProblemSpec", [
    "name", "input_modality", "input_vocab_size", "input_vocab_name",
    "target_modality", "target_vocab_size", "target_vocab_name",
    "task_token", "task_token_id"])


class Problem:
  """Base class of every problem; subclasses set the class attributes."""

  input_modality = "text"
  target_modality = "text"
  task_token = "generic"
  vocab_name = None          # None: a vocabulary of this problem's own.
  vocab_size = 8192
  num_shards = {"train": 4, "dev": 1, "test": 1}
  metrics = ()               # decoded metrics (t2tlite.metrics) it is scored on
  input_codec = None         # t2tlite.data.codecs; None: input_modality's
  target_codec = None        # None: target_modality's
  input_feature = "inputs"
  target_feature = "targets"
  reversible = False
  max_decode_length = 128
  registered_name = None

  def __init__(self):
    self.reversed = False
    self._vocabs = {}

  # --- names ----------------------------------------------------------------
  @property
  def name(self):
    base = self.registered_name or type(self).__name__
    return base + ("_rev" if self.reversed else "")

  @property
  def data_name(self):
    """The files' name: a reversed problem reads its base problem's files."""
    return self.registered_name or type(self).__name__

  def set_reversed(self):
    if not self.reversible:
      raise ValueError(f"problem '{self.data_name}' cannot be reversed "
                       "(its inputs and targets are of different kinds)")
    self.reversed = True

  # --- vocabulary -----------------------------------------------------------
  @property
  def vocab_key(self):
    return self.vocab_name or self.data_name

  def vocab_text(self, tmp_dir):
    """Text for this problem's own vocabulary (when vocab_name is None)."""
    raise NotImplementedError

  def vocab(self, data_dir):
    if data_dir not in self._vocabs:
      self._vocabs[data_dir] = vocab_lib.SubwordVocab(
          vocab_lib.vocab_path(data_dir, self.vocab_key))
    return self._vocabs[data_dir]

  def ensure_vocab(self, data_dir, tmp_dir, served=()):
    path = vocab_lib.vocab_path(data_dir, self.vocab_key)
    if os.path.exists(path):
      return vocab_lib.SubwordVocab(path)
    symbols = ()
    if self.vocab_name is None:
      lines, size, desc = self.vocab_text(tmp_dir), self.vocab_size, ""
    else:
      spec = vocab_lib.vocab_spec(self.vocab_name)
      lines, size, desc = spec.text_fn(tmp_dir), spec.size, spec.description
      symbols = spec.symbols
    return vocab_lib.train_subword_vocab(path, lines, size,
                                         served=served or [self.data_name],
                                         description=desc, symbols=symbols)

  # --- data generation ------------------------------------------------------
  def generate_examples(self, data_dir, tmp_dir, split):
    """Yields dicts of features (ints, lists, bytes) for one split."""
    raise NotImplementedError

  def example_length(self, example):
    """The length the trainer filters on (max_length); None: no filter."""
    return None

  def uses_vocab(self):
    return "text" in (self.input_modality, self.target_modality)

  def generate_data(self, data_dir, tmp_dir, served=()):
    """Writes every missing split; a complete split is left alone."""
    os.makedirs(tmp_dir, exist_ok=True)
    os.makedirs(data_dir, exist_ok=True)
    data_io.remove_incomplete(data_dir, self.data_name)
    if self.uses_vocab():
      self.ensure_vocab(data_dir, tmp_dir, served)
    written = {}
    for split, n in self.num_shards.items():
      if data_io.find_shards(data_dir, self.data_name, split):
        continue
      examples = self.generate_examples(data_dir, tmp_dir, split)
      written[split] = data_io.write_split(
          examples, data_dir, self.data_name, split, n,
          length_fn=self.example_length)
    return written

  # --- reading --------------------------------------------------------------
  def feature_spec(self):
    """tf.io parsing spec for the stored features."""
    import tensorflow as tf
    return {"inputs": tf.io.VarLenFeature(tf.int64),
            "targets": tf.io.VarLenFeature(tf.int64)}

  def decode_record(self, record):
    import tensorflow as tf
    parsed = tf.io.parse_single_example(record, self.feature_spec())
    return {k: tf.sparse.to_dense(v) if isinstance(v, tf.SparseTensor) else v
            for k, v in parsed.items()}

  def preprocess(self, example, hparams, training):
    """Stored features -> {"inputs", "targets"} tensors for the model."""
    out = {"inputs": example[self.input_feature],
           "targets": example[self.target_feature]}
    if self.reversed:
      out = {"inputs": out["targets"], "targets": out["inputs"]}
    return out

  def shard_files(self, data_dir, split):
    if not os.path.isdir(data_dir):
      raise data_io.DataError(f"data_dir {data_dir} does not exist; run "
                              f"{self.datagen_command(data_dir)}")
    files = data_io.find_shards(data_dir, self.data_name, split)
    if not files:
      raise data_io.DataError(
          f"no {split} shards for problem '{self.data_name}' in {data_dir}; "
          f"run {self.datagen_command(data_dir)}")
    data_io.check_sizes(data_dir, self.data_name, split, files)
    return files

  def datagen_command(self, data_dir):
    return (f"t2tlite-datagen --problem={self.data_name} "
            f"--data_dir={data_dir} --tmp_dir=/tmp/t2tlite_tmp")

  def num_examples(self, data_dir, split):
    meta = data_io.read_meta(data_dir, self.data_name, split)
    return meta["examples"] if meta else None

  def dataset(self, data_dir, split, hparams, training, seed=0,
              shard=(1, 0)):
    """Preprocessed examples of one split; endless epochs when training
    (pipeline.read_records says in what order)."""
    import tensorflow as tf
    ds = pipeline.read_records(self.shard_files(data_dir, split), training,
                               seed, shard)
    # Plain TF ops, no autograph: autograph's conversion cache has mixed
    # up bound methods of two instances of one class (forward and _rev).
    no_ag = tf.autograph.experimental.do_not_convert
    ds = ds.map(no_ag(self.decode_record),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.map(no_ag(lambda ex: self.preprocess(ex, hparams, training)),
                  num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

  def batching(self, hparams):
    """How this problem's examples are grouped: a pipeline.Batching."""
    raise NotImplementedError

  def batched(self, data_dir, split, hparams, training, seed=0,
              shard=(1, 0)):
    """Batches for the train step (endless) or the eval step (one pass)."""
    ds = self.dataset(data_dir, split, hparams, training, seed, shard)
    return pipeline.batch(ds, self.batching(hparams), training)

  def dropped_by_length(self, data_dir, split, max_length):
    """How many examples of a split max_length drops (from datagen meta)."""
    meta = data_io.read_meta(data_dir, self.data_name, split) or {}
    return sum(v for k, v in meta.get("lengths", {}).items()
               if int(k) > max_length)

  # --- the model's view -----------------------------------------------------
  def spec(self, data_dir):
    in_size = out_size = 0
    in_vocab = out_vocab = ""
    if self.uses_vocab():
      size = self.vocab(data_dir).size
      if self.input_modality == "text":
        in_size, in_vocab = size, self.vocab_key
      if self.target_modality == "text":
        out_size, out_vocab = size, self.vocab_key
    in_size = self.input_vocab_size() or in_size
    out_size = self.target_vocab_size() or out_size
    # A label set is its own output space: Fashion-MNIST's 10 classes and
    # the digits' 10 must not share one softmax because their sizes match.
    if self.input_modality == "class_label":
      in_vocab = in_vocab or self.label_set
    if self.target_modality == "class_label":
      out_vocab = out_vocab or self.label_set
    spec = ProblemSpec(self.name, self.input_modality, in_size, in_vocab,
                       self.target_modality, out_size, out_vocab,
                       self.task_token, task_token_id(self.task_token))
    if self.reversed:
      spec = spec._replace(
          input_modality=spec.target_modality,
          input_vocab_size=spec.target_vocab_size,
          input_vocab_name=spec.target_vocab_name,
          target_modality=spec.input_modality,
          target_vocab_size=spec.input_vocab_size,
          target_vocab_name=spec.input_vocab_name,
          task_token=self.reverse_task_token,
          task_token_id=task_token_id(self.reverse_task_token))
    return spec

  reverse_task_token = "generic"

  @property
  def label_set(self):
    """The identity of a class-label problem's labels (see spec): problems
    that name the same label set share one class-label modality net."""
    return f"labels:{self.data_name}"

  def input_vocab_size(self):
    return 0

  def target_vocab_size(self):
    return 0
