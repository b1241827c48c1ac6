"""Subword and character vocabularies.

Ids 0, 1 and 2 are reserved in every vocabulary: padding, end of sequence and
unknown. A subword vocabulary is a sentencepiece model trained once, in
datagen, on a bounded sample of text, and may be shared by many problems
(the paper shared one 8k vocabulary across all its tasks).
"""
import io
import json
import os
import random

from t2tlite import registry

PAD_ID, EOS_ID, UNK_ID = 0, 1, 2


class VocabSpec:
  """How a named vocabulary is built: its size and where its text comes from."""

  def __init__(self, name, size, text_fn, description="", symbols=()):
    self.name, self.size, self.text_fn = name, size, text_fn
    self.description = description
    self.symbols = list(symbols)


def register_vocab(name, size, text_fn, description="", symbols=()):
  """Declares a shared vocabulary; `text_fn(tmp_dir)` yields its text.

  `symbols` are pieces kept whole (sentencepiece user_defined_symbols),
  e.g. the brackets of linearised parse trees. Vocabularies live in
  registry.vocabularies beside problems and models; declaring one name
  again is allowed only with the same size and symbols (a module imported
  twice), anything else is an error.
  """
  spec = VocabSpec(name, size, text_fn, description, symbols)
  if name in registry.vocabularies:
    old = registry.vocabularies.get(name)
    if (old.size, old.symbols) != (spec.size, spec.symbols):
      raise registry.RegistryError(
          f"vocabulary '{name}' is already registered with size {old.size}"
          f" and {len(old.symbols)} symbols")
    return old
  return registry.vocabularies.register(name)(spec)


def vocab_spec(name):
  """The registered VocabSpec of `name`; an unknown name is a RegistryError
  naming the nearest ones."""
  return registry.vocabularies.get(name)


def vocab_path(data_dir, name):
  return os.path.join(data_dir, f"vocab.{name}.model")


def has_file(name):
  """False for the built-in character vocabularies ("char", "char_lower"),
  which no data_dir holds as a file; True for a named subword vocabulary."""
  return name not in BUILTIN


class SubwordVocab:
  """A sentencepiece model; encode appends nothing (callers add EOS)."""

  kind = "subword"

  def __init__(self, model_path):
    import sentencepiece as spm
    if not os.path.exists(model_path):
      raise FileNotFoundError(f"vocabulary {model_path} not found; run "
                              "t2tlite-datagen for this problem first")
    self.path = model_path
    self._sp = spm.SentencePieceProcessor(model_file=model_path)
    self.size = self._sp.get_piece_size()

  def encode(self, text):
    return self._sp.encode(text)

  def decode(self, ids):
    ids = [int(i) for i in ids]
    if EOS_ID in ids:
      ids = ids[:ids.index(EOS_ID)]
    return self._sp.decode([i for i in ids if i >= UNK_ID])

  def serialized(self):
    with open(self.path, "rb") as f:
      return f.read()


class CharVocab:
  """Bytes of UTF-8 as ids, shifted past the reserved ids."""

  kind = "char"
  size = 256 + 3

  def encode(self, text):
    return [b + 3 for b in text.encode("utf-8")]

  def decode(self, ids):
    ids = [int(i) for i in ids]
    if EOS_ID in ids:
      ids = ids[:ids.index(EOS_ID)]
    return bytes(i - 3 for i in ids if i >= 3).decode("utf-8", "replace")


class LowerCharVocab:
  """Lowercase letters, digits, apostrophe and space: 38 symbols after ids
  0-2, as t2tlite.metrics.wer normalises a transcript before scoring it.

  encode() normalises first (lowercase, punctuation to spaces, an
  apostrophe kept inside a word only, spaces collapsed), so the model
  never spends capacity on case or punctuation the scorer ignores; a
  character outside the alphabet (a non-ASCII letter) is UNK_ID.
  """

  kind = "char_lower"
  alphabet = " '" + "abcdefghijklmnopqrstuvwxyz" + "0123456789"
  size = 3 + len(alphabet)

  def __init__(self):
    self._ids = {c: i + 3 for i, c in enumerate(self.alphabet)}

  @staticmethod
  def normalize(text):
    from t2tlite.metrics import wer  # pylint: disable=import-outside-toplevel
    return wer.normalize(text)

  def encode(self, text):
    return [self._ids.get(c, UNK_ID) for c in self.normalize(text)]

  def decode(self, ids):
    ids = [int(i) for i in ids]
    if EOS_ID in ids:
      ids = ids[:ids.index(EOS_ID)]
    return "".join(self.alphabet[i - 3] for i in ids
                   if 3 <= i < self.size)


BUILTIN = {CharVocab.kind: CharVocab, LowerCharVocab.kind: LowerCharVocab}


def reservoir_sample(lines, k, seed=0):
  """A uniform sample of at most k items in O(k) memory."""
  rng = random.Random(seed)
  sample = []
  for n, line in enumerate(lines):
    if n < k:
      sample.append(line)
    else:
      j = rng.randint(0, n)
      if j < k:
        sample[j] = line
  return sample


def train_subword_vocab(path, lines, size, served=(), max_sentences=300_000,
                        description="", symbols=()):
  """Trains a sentencepiece model on a bounded sample; writes it atomically."""
  import sentencepiece as spm
  sample = [l for l in reservoir_sample(lines, max_sentences) if l.strip()]
  if not sample:
    raise ValueError(f"no text to train vocabulary {path}")
  buf = io.BytesIO()
  spm.SentencePieceTrainer.train(
      sentence_iterator=iter(sample), model_writer=buf, vocab_size=size,
      model_type="unigram", character_coverage=0.9995, pad_id=PAD_ID,
      eos_id=EOS_ID, unk_id=UNK_ID, bos_id=-1, hard_vocab_limit=False,
      num_threads=os.cpu_count() or 1, minloglevel=2,
      user_defined_symbols=list(symbols) or None)
  tmp = path + ".tmp"
  with open(tmp, "wb") as f:
    f.write(buf.getvalue())
  os.replace(tmp, path)
  meta = {"size": size, "serves": sorted(served), "sentences": len(sample),
          "description": description, "symbols": list(symbols)}
  with open(path[:-len(".model")] + ".json", "w") as f:
    json.dump(meta, f, indent=1)
  return SubwordVocab(path)
