"""The Problem API: what a task's data is, and how it reaches a model.

A Problem is data: its modalities, its vocabulary, its task token (the
paper's first decoder symbol, one per output space), its metrics, its
codecs, and `generate_examples`. It knows nothing of models: the model
sees only a `ProblemSpec` (modality names, vocabulary sizes, task token;
`spec`). Writing a problem's files is datagen.generate_data; reading them
is pipeline.batched through the problem's two codecs (t2tlite.data.codecs:
storage, model tensors, lengths, and decoding); scoring is
t2tlite.metrics.
"""
import collections

from t2tlite import registry
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
  reverse_task_token = "generic"  # the task token of the _rev problem
  vocab_name = None          # None: a vocabulary of this problem's own.
  vocab_size = 8192
  num_shards = {"train": 4, "dev": 1, "test": 1}
  metrics = ()               # decoded metrics (t2tlite.metrics) it is scored on
  input_codec = None         # t2tlite.data.codecs; None: input_modality's
  target_codec = None        # None: target_modality's
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

  # --- data generation ------------------------------------------------------
  def generate_examples(self, data_dir, tmp_dir, split):
    """Yields dicts of features (ints, lists, bytes) for one split."""
    raise NotImplementedError

  def batched(self, data_dir, split, hparams, training, seed=0,
              shard=(1, 0)):
    """Batches for the train step (endless) or the eval step (one pass):
    pipeline.batched, which reads every problem through its codecs. A
    problem overrides this only to feed batches of its own making."""
    return pipeline.batched(self, data_dir, split, hparams, training, seed,
                            shard)


# --- the model's view --------------------------------------------------------
def spec(problem, data_dir):
  """The ProblemSpec a model is built from: modalities, the sizes and names
  of the vocabularies (a label set is its own output space: Fashion-MNIST's
  10 classes and the digits' 10 must not share one softmax because their
  sizes match), and the task token; swapped for a _rev problem."""
  sides = []
  for modality in (problem.input_modality, problem.target_modality):
    if modality == "text":
      vocab = problem.vocab(data_dir)
      name = (vocab.kind if isinstance(vocab, vocab_lib.CharVocab)
              else problem.vocab_key)
      sides.append((modality, vocab.size, name))
    elif modality == "class_label":
      sides.append((modality, len(problem.class_names),
                    f"labels:{problem.data_name}"))
    else:
      sides.append((modality, 0, ""))
  token = problem.task_token
  if problem.reversed:
    sides, token = sides[::-1], problem.reverse_task_token
  (in_mod, in_size, in_vocab), (out_mod, out_size, out_vocab) = sides
  return ProblemSpec(problem.name, in_mod, in_size, in_vocab, out_mod,
                     out_size, out_vocab, token, task_token_id(token))
