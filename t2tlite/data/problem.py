"""The Problem API: what a task's data is, and how it reaches a model.

A Problem is data: its modalities, its vocabulary, its task token (the
paper's first decoder symbol, one per output space), its metrics, its
codecs, and `generate_examples`, which yields raw values (text, image
bytes, PCM, a label) that its codecs encode for storage. It knows nothing
of models: the model sees only a `ProblemSpec` (modality names,
vocabulary sizes, task token; `spec`). Writing a problem's files is
datagen.generate_data; reading them is pipeline.batched through the
problem's two codecs (t2tlite.data.codecs: storage, model tensors,
lengths, and decoding); scoring is t2tlite.metrics.
"""
import collections

from t2tlite import registry
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
  """Base class of every problem: what its data is. Subclasses set the
  class attributes and write `generate_examples`; everything else about a
  problem is a function of these (data_name, vocab, spec below; reading,
  batching and decoding in its codecs)."""

  input_modality = "text"
  target_modality = "text"
  codecs = (None, None)      # (inputs, targets) codec names; None: modality's
  # A registered vocabulary (t2tlite.data.vocab.register_vocab), "char"
  # (UTF-8 bytes), or None: a vocabulary of the problem's own, trained on
  # its `vocab_text(tmp_dir)` with `vocab_size` pieces (Text2TextProblem).
  vocab_name = None
  task_token = "generic"
  # The task token of the problem's `_rev` twin (inputs and targets
  # swapped); None: the problem cannot be reversed.
  reverse_task_token = None
  shares_data_of = None      # a registered problem whose files this reads
  num_shards = {"train": 4, "dev": 1, "test": 1}
  metrics = ()               # decoded metrics (t2tlite.metrics) it is scored on
  max_decode_length = 128
  _registered_name = None    # set by the registry

  def __init__(self):
    self._reversed = False
    self._vocabs = {}

  @property
  def name(self):
    base = self._registered_name or type(self).__name__
    return base + ("_rev" if self._reversed else "")

  def generate_examples(self, tmp_dir, split):
    """Yields one split's examples as raw values, {"inputs": value,
    "targets": value}: a str, image bytes or uint8 pixels, 16 kHz PCM
    bytes, a class name or index. The problem's codecs turn them into the
    stored features (Codec.encode; datagen.generate_data)."""
    raise NotImplementedError


def is_reversed(problem):
  return problem._reversed


def data_name(problem):
  """The files' name: a reversed problem reads its base problem's files,
  a twin (shares_data_of) the files of the problem it names."""
  return (problem.shares_data_of or problem._registered_name
          or type(problem).__name__)


def vocab_key(problem):
  """The name of the problem's vocabulary (its file vocab.<key>.model)."""
  return problem.vocab_name or data_name(problem)


def vocab(problem, data_dir):
  """The problem's vocabulary: a built-in character one for vocab_name
  "char" (bytes) or "char_lower" (vocab_lib.BUILTIN), else the subword
  vocabulary file in data_dir (read once per problem instance)."""
  if problem.vocab_name in vocab_lib.BUILTIN:
    return vocab_lib.BUILTIN[problem.vocab_name]()
  if data_dir not in problem._vocabs:
    problem._vocabs[data_dir] = vocab_lib.SubwordVocab(
        vocab_lib.vocab_path(data_dir, vocab_key(problem)))
  return problem._vocabs[data_dir]


# --- the model's view --------------------------------------------------------
def spec(problem, data_dir):
  """The ProblemSpec a model is built from: modalities, the sizes and names
  of the vocabularies (a label set is its own output space: Fashion-MNIST's
  10 classes and the digits' 10 must not share one softmax because their
  sizes match), and the task token; swapped for a _rev problem."""
  sides = []
  for modality in (problem.input_modality, problem.target_modality):
    if modality == "text":
      text_vocab = vocab(problem, data_dir)
      name = vocab_key(problem)
      sides.append((modality, text_vocab.size, name))
    elif modality == "class_label":
      sides.append((modality, len(problem.class_names),
                    f"labels:{data_name(problem)}"))
    else:
      sides.append((modality, 0, ""))
  token = problem.task_token
  if problem._reversed:
    sides, token = sides[::-1], problem.reverse_task_token
  (in_mod, in_size, in_vocab), (out_mod, out_size, out_vocab) = sides
  return ProblemSpec(problem.name, in_mod, in_size, in_vocab, out_mod,
                     out_size, out_vocab, token, task_token_id(token))
