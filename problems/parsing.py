"""English constituency parsing: sentence words -> linearised tree.

The paper's fourth task (WSJ parsing), as "Grammar as a Foreign Language"
cast it: the target is the tree written as brackets,
"(S (NP XX XX ) (VP XX (NP XX XX ) ) . )" (see t2tlite/data/trees.py), in the
shared 8k subword vocabulary, so parsing shares the text modality with
translation. Decoded trees are scored by labelled bracket F1 as evalb
computes it (rules in t2tlite/metrics/evalb.py).

Decoding is constrained (the "tree" codec, t2tlite/data/codecs/tree.py):
every decoded tree is well formed and its leaves are exactly the input's
words as linearize() writes them (XX, punctuation, or the words of the
_words problems). A tree decoded from a user's line is printed with the
user's words in place of the leaves (the tree codec's to_text; decode
hparam tree_words=False keeps the placeholders); evaluation scores the
placeholder trees.

  parsing_english_ptb          WSJ Penn Treebank (the user's LDC copy)
  parsing_english_ptb_words    the same, words kept instead of XX
  parsing_english_silver       SILVER trees: real DDTP English sentences
                               parsed by link-grammar (runs offline here)
  parsing_english_silver_words the same, words kept
"""
import json
import os
import time

from t2tlite.data import data_io
from t2tlite import registry
from t2tlite.data import text_problem
from t2tlite.data import trees as trees_lib
from t2tlite.data.codecs.tree import tokenize_words, with_words  # noqa: F401
# Registers the shared vocabulary ("shared_subword_8k") and gives sentences.
from t2tlite.problems import ddtp



class ParsingProblem(text_problem.Text2TextProblem):
  """Base: subclasses yield normalised Trees from `trees()`."""

  source_lang = "en"
  target_lang = "parse_tree"
  task_token = "to_parse_tree"
  reverse_task_token = None
  vocab_name = ddtp.SHARED_VOCAB
  num_shards = {"train": 4, "dev": 1, "test": 1}
  metrics = ("labelled_f1", "unlabelled_f1", "exact_match", "malformed")
  # t2tlite/data/codecs/tree.py: the sentence split into words; decoding
  # constrained to trees.
  codecs = ("words", "tree")
  max_decode_length = 384
  keep_words = False  # False: words become trees_lib.PLACEHOLDER ("XX").
  keep_pos = False    # Part-of-speech preterminals (PTB only).

  def trees(self, tmp_dir, split):
    """Yields the split's trees (trees_lib.Tree, already normalised)."""
    raise NotImplementedError

  def linearize(self, tree):
    return trees_lib.linearize(
        tree, None if self.keep_words else trees_lib.PLACEHOLDER)

  def leaf(self, word):
    """An input word as linearize() writes it as a leaf."""
    word = trees_lib.escape_word(word)
    if self.keep_words or trees_lib.is_punctuation(word):
      return word
    return trees_lib.PLACEHOLDER

  def text_pairs(self, tmp_dir, split):
    for tree in self.trees(tmp_dir, split):
      yield trees_lib.sentence(tree), self.linearize(tree)


# --- Penn Treebank (WSJ) ---------------------------------------------------
PTB_ENV = "T2TLITE_PTB_DIR"
# The standard split of "Grammar as a Foreign Language" and most parsers.
PTB_SECTIONS = {"train": range(2, 22), "dev": (22,), "test": (23,)}
# Where the sections sit under the folder a user points at, per LDC release.
_PTB_LAYOUTS = ("", "wsj", "parsed/mrg/wsj", "treebank_3/parsed/mrg/wsj",
                "combined/wsj", "treebank_2/combined/wsj")


def find_wsj_sections(root):
  """The folder holding the WSJ section folders 00..24 under `root`."""
  for layout in _PTB_LAYOUTS:
    path = os.path.join(root, layout)
    if os.path.isdir(os.path.join(path, "23")) or os.path.isdir(
        os.path.join(path, "02")):
      return path
  return None


def read_wsj_trees(sections_dir, sections):
  """Yields the raw trees of the given sections, files in sorted order."""
  for section in sections:
    folder = os.path.join(sections_dir, f"{section:02d}")
    if not os.path.isdir(folder):
      raise data_io.DataError(f"WSJ section folder {folder} is missing")
    names = sorted(f for f in os.listdir(folder) if f.endswith(".mrg"))
    if not names:
      raise data_io.DataError(f"no .mrg files in {folder}")
    for name in names:
      with open(os.path.join(folder, name), encoding="latin-1") as f:
        # Treebank-2 files open with a "*x* ... *x*" copyright banner.
        text = "".join(l for l in f if not l.startswith("*x*"))
      yield from trees_lib.read_trees(text)


@registry.register_problem
class ParsingEnglishPtb(ParsingProblem):
  """WSJ constituency parsing from the user's Penn Treebank copy (LDC).

  The treebank is licensed and cannot be downloaded here: point
  `ptb_dir` (class attribute), or the environment variable T2TLITE_PTB_DIR,
  at the folder holding the section folders 00..24 of wsj_SSNN.mrg files
  (or at an LDC release folder above it, e.g. treebank_3); default
  TMP_DIR/ptb. Sections 02-21 train, 22 dev, 23 test. Trees lose -NONE-
  elements, function tags (NP-SBJ -> NP) and part-of-speech preterminals.
  """

  ptb_dir = None

  def wsj_dir(self, tmp_dir):
    root = (self.ptb_dir or os.environ.get(PTB_ENV) or
            os.path.join(tmp_dir, "ptb"))
    found = find_wsj_sections(root)
    if found is None:
      raise data_io.DataError(
          f"{self.name}: no Penn Treebank WSJ sections under {root}; "
          f"set {PTB_ENV} to the folder with 00..24/wsj_*.mrg (LDC "
          "treebank_3/parsed/mrg/wsj) or copy them to TMP_DIR/ptb/wsj")
    return found

  def trees(self, tmp_dir, split):
    for raw in read_wsj_trees(self.wsj_dir(tmp_dir), PTB_SECTIONS[split]):
      tree = trees_lib.normalize_ptb(raw, keep_pos=self.keep_pos)
      if tree is not None:
        yield tree


@registry.register_problem
class ParsingEnglishPtbWords(ParsingEnglishPtb):
  """parsing_english_ptb with the words kept in the target trees."""

  keep_words = True


# --- SILVER trees from link-grammar ---------------------------------------
SILVER_VERSION = 1


@registry.register_problem
class ParsingEnglishSilver(ParsingProblem):
  """SILVER constituency trees: DDTP English parsed by link-grammar.

  Real sentences (problems/ddtp.english_sentences, so a sentence is in the
  same split as in translation and speech) of min_words..max_words words,
  parsed by the link-grammar parser; only complete parses (no null link)
  are kept, as PTB-style trees without part-of-speech tags. These are a
  parser's output, not human annotation: scores measure agreement with
  link-grammar. Parsed trees are cached in TMP_DIR/parsing_english_silver.
  """

  min_words, max_words = 3, 25
  # Sentences parsed per split (before the ~75% complete-parse yield): a
  # number for every split, a dict per split, or None for all of them
  # (95k train sentences: about half an hour on 2 cores).
  max_sentences = {"train": 13000, "dev": 1000, "test": 1000}
  processes = 2

  def sentences(self, tmp_dir, split):
    """The split's sentences to parse: length-filtered, each once, none
    that an earlier split (train, then dev) has too."""
    order = ("train", "dev", "test")
    earlier = set()
    for other in order[:order.index(split)]:
      earlier.update(ddtp.english_sentences(tmp_dir, other))
    out, seen = [], set()
    for s in ddtp.english_sentences(tmp_dir, split):
      s = " ".join(s.split())
      if (self.min_words <= len(s.split()) <= self.max_words and
          s not in seen and s not in earlier):
        seen.add(s)
        out.append(s)
    cap = self.cap(split)
    return out[:cap] if cap else out

  def cap(self, split):
    if isinstance(self.max_sentences, dict):
      return self.max_sentences.get(split)
    return self.max_sentences

  def cache_path(self, tmp_dir, split):
    # The settings are in the name: changing one parses afresh.
    cap = self.cap(split) or "all"
    return os.path.join(
        tmp_dir, "parsing_english_silver",
        f"silver-v{SILVER_VERSION}-w{self.min_words}-{self.max_words}-"
        f"n{cap}.{split}.tsv")

  def silver_trees(self, tmp_dir, split):
    """[(sentence, PTB bracket string)], parsed once and then cached."""
    path = self.cache_path(tmp_dir, split)
    if not os.path.exists(path):
      self._parse_split(tmp_dir, split, path)
    with open(path, encoding="utf-8") as f:
      return [tuple(line.rstrip("\n").split("\t")) for line in f]

  def _parse_split(self, tmp_dir, split, path):
    from t2tlite.problems import link_grammar
    sentences = self.sentences(tmp_dir, split)
    start, kept = time.time(), []
    for sentence, tree in link_grammar.parse_many(
        sentences, self.processes, label=f"link-grammar {split}"):
      if tree is not None:
        kept.append(f"{sentence}\t{tree}\n")
    seconds = time.time() - start
    os.makedirs(os.path.dirname(path), exist_ok=True)
    stats = {"sentences": len(sentences), "complete_parses": len(kept),
             "yield": round(len(kept) / max(len(sentences), 1), 4),
             "seconds": round(seconds, 1), "processes": self.processes}
    with open(path[:-len(".tsv")] + ".stats.json", "w") as f:
      json.dump(stats, f, indent=1)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
      f.writelines(kept)
    os.replace(path + ".tmp", path)

  def trees(self, tmp_dir, split):
    for _, tree in self.silver_trees(tmp_dir, split):
      yield trees_lib.parse(tree)


@registry.register_problem
class ParsingEnglishSilverWords(ParsingEnglishSilver):
  """parsing_english_silver with the words kept in the target trees."""

  keep_words = True


@registry.register_problem
class ParsingEnglishSilverLarge(ParsingEnglishSilver):
  """parsing_english_silver with 4x the training sentences (39,821 trees
  against 9,909; link-grammar took 401 s for them on one core here), the
  same dev and test trees: for runs long enough to need more trees."""

  max_sentences = {"train": 52000, "dev": 1000, "test": 1000}
