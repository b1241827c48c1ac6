"""Constituency parsing: a sentence's words in, a linearised tree out.

Inputs ("words"): a raw sentence, split like the training inputs
(tokenize_words: punctuation apart), then encoded as text. Targets
("tree"): the tree written as brackets in the text vocabulary, e.g.
"(S (NP XX XX ) (VP XX ) . )" (t2tlite/data/trees.py). Decoding is
constrained to well-formed trees whose leaves are the input's words as the
problem writes them (`problem.leaf`: XX, punctuation, or the word), and a
tree decoded from a user's line is printed with the line's own words as
its leaves (decode hparam tree_words=False keeps the placeholders).

Neither has a graph form: word splitting and the constraint are Python.
"""
import collections
import re

from t2tlite import registry
from t2tlite.data import trees as trees_lib
from t2tlite.data import vocab as vocab_lib
from t2tlite.data.codecs import text

# What a decoder needs to keep outputs well-formed trees
# (t2tlite/decode/tree_constraint.py builds the search constraint).
TreeGrammar = collections.namedtuple("TreeGrammar",
                                     ["vocab", "labels", "leaves_fn"])


def tokenize_words(line):
  """A raw sentence split like the training inputs: punctuation apart.

  Commas, semicolons, colons, quotes and brackets at a word's edges become
  words of their own, and so does the final . ? or ! of the line; "e.g."
  or "3:00" inside a sentence stay whole. Text already tokenised is left
  as it is.
  """
  tokens = line.split()
  final = []
  if tokens and len(tokens[-1]) > 1 and tokens[-1][-1] in ".?!":
    if not re.fullmatch(r"(\w\.)+", tokens[-1]):  # Keep "e.g.", "U.S.".
      tokens[-1], final = tokens[-1][:-1], [tokens[-1][-1]]
  words = []
  for token in tokens:
    lead = re.match(r"^[(\"'`\[{]*", token).group()
    token = token[len(lead):]
    tail = re.search(r"[)\"'\]},;:]*$", token).group()
    token = token[:len(token) - len(tail)]
    words.extend(lead)
    if token:
      words.append(token)
    words.extend(tail)
  return " ".join(words + final)


def with_words(tree_text, words):
  """A linearised tree with its leaves replaced by `words` (escaped), in
  order. The tree's leaves may be fewer than the words (an input cut at
  max_length): the first ones are used. Not a well-formed tree, or more
  leaves than words: returned unchanged."""
  try:
    tree = trees_lib.rebuild(tree_text)
  except trees_lib.MalformedTree:
    return tree_text
  if len(tree.leaves()) > len(words):
    return tree_text
  tokens, out, n, i = trees_lib.tokenize(tree_text), [], 0, 0
  while i < len(tokens):
    if tokens[i] == "(":  # rebuild() checked that a label follows
      out.append("(" + tokens[i + 1])
      i += 2
      continue
    out.append(")" if tokens[i] == ")" else trees_lib.escape_word(words[n]))
    n += tokens[i] != ")"
    i += 1
  return " ".join(out)


@registry.register_codec("words")
class WordsCodec(text.TextCodec):
  """A sentence to parse: split into words, then encoded as text."""

  def from_line(self, line, config):
    words = tokenize_words(line)
    if not words:
      raise ValueError("empty sentence")
    return super().from_line(words, config)

  def graph_inputs(self, config):
    self._no_graph("inputs")


@registry.register_codec("tree")
class TreeCodec(text.TextCodec):
  """A linearised tree in the text vocabulary (see the module doc)."""

  def to_text(self, output, decode_hparams, line=None):
    """The decoded tree on one line (evalb.score repairs a broken one);
    with the user's `line`, its words as the leaves."""
    tree = " ".join(self.vocab.decode(output).split())
    if line is None or not decode_hparams["tree_words"]:
      return tree
    return with_words(tree, tokenize_words(line).split())

  def decode_length(self, inputs_length, extra_length=50):
    # A linearised tree is about 2-3 pieces per input piece (brackets and
    # placeholders), so the text default (inputs + 50) would cut it short.
    # Constrained decoding raises this to what the input's smallest tree
    # needs where that is more (tree_constraint.min_length).
    return min(self.problem.max_decode_length,
               3 * inputs_length + extra_length)

  def graph_text(self):
    self._no_graph("outputs")

  # --- the decoding constraint ----------------------------------------------
  def _piece_texts(self):
    """The vocabulary's pieces as strings, by id (cached)."""
    if not hasattr(self, "_pieces"):
      import sentencepiece as spm
      sp = spm.SentencePieceProcessor(model_file=self.vocab.path)
      self._pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    return self._pieces

  def input_words(self, ids):
    """Model input ids -> [(word, its piece ids)], up to EOS.

    Words are split where sentencepiece splits them, at a piece that
    begins with "\u2581", so an unknown character (which decodes as
    " \u2047 ") stays inside its word: every input word is one word here,
    as it was one leaf of the training tree. (A word of unknown
    characters only, e.g. a rare dash, reads as "\u2047", not as
    punctuation.)
    """
    texts = self._piece_texts()
    groups = []
    for i in ids:
      i = int(i)
      if i == vocab_lib.EOS_ID:
        break
      if i == vocab_lib.PAD_ID:
        continue
      if not groups or (i < len(texts) and texts[i].startswith("\u2581")):
        groups.append([])
      groups[-1].append(i)
    vocab = self.vocab
    words = [("".join(vocab.decode(g).split()), g) for g in groups]
    # A word of no text: a lone "\u2581" where max_length cut the input.
    return [(w, g) for w, g in words if w]

  def tree_leaves(self, ids):
    """The leaves the tree of input ids must have, as the problem writes
    them (problem.leaf): [(leaf text, its piece ids)]. A leaf spelled as
    its input word keeps the word's own pieces (its encoding in the
    target too); XX and escaped words (-LRB-) are encoded afresh."""
    out = []
    for word, pieces in self.input_words(ids):
      leaf = self.problem.leaf(word)
      out.append((leaf, pieces if leaf == word else self.vocab.encode(leaf)))
    return out

  def grammar(self):
    """The outputs' grammar for constrained decoding: a TreeGrammar (the
    vocabulary, the phrase labels, and leaves_fn(input ids) -> the leaves
    the tree of that input must have, each a list of piece ids)."""
    return TreeGrammar(
        self.vocab, trees_lib.PHRASE_LABELS,
        lambda ids: [p for _, p in self.tree_leaves(ids)])
