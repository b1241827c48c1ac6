"""Constituency trees: reading, PTB clean-up, linearising and rebuilding.

A tree is a `Tree(label, children)`; a child is a `Tree` or a word (str).
Targets of the parsing problems are trees linearised as in "Grammar as a
Foreign Language" (Vinyals et al. 2015), which the MultiModel paper used:
"(S (NP XX XX ) (VP XX (NP XX XX ) ) . )": an opening bracket glued to its
label, one token per word, a bare ")" closing each constituent. Words are
either kept or replaced by the placeholder XX; punctuation is always kept,
so the model can anchor on it and the scorer can find it (see evalb.py).

Model output need not be a tree: `repair` turns any string into one by the
rule documented there and says whether it had to.
"""
import re

PLACEHOLDER = "XX"
# PTB escapes brackets in words; so do we, as a bracket in a leaf would end
# the constituent.
_ESCAPES = {"(": "-LRB-", ")": "-RRB-", "{": "-LCB-", "}": "-RCB-"}
_UNESCAPES = {v: k for k, v in _ESCAPES.items()}
# Punctuation as evalb's COLLINS.prm deletes it (tags , : . `` ''), told by
# the word itself since our targets carry no part-of-speech tags: a token
# made only of these characters. Brackets, $ and # are words, as in evalb.
_PUNCT_CHARS = frozenset(".,:;?!'\"`-\u2013\u2014\u2026")
_TOKEN = re.compile(r"[()]|[^\s()]+")
# Phrase labels of the Penn Treebank II; link-grammar uses a subset.
PHRASE_LABELS = (
    "ADJP", "ADVP", "CONJP", "FRAG", "INTJ", "LST", "NAC", "NP", "NX", "PP",
    "PRN", "PRT", "QP", "RRC", "S", "SBAR", "SBARQ", "SINV", "SQ", "UCP",
    "VP", "WHADJP", "WHADVP", "WHNP", "WHPP", "X")


class MalformedTree(ValueError):
  """A string that is not one well-formed bracketed tree."""


class Tree:
  """A labelled constituent; children are Trees or words (str)."""

  __slots__ = ("label", "children")

  def __init__(self, label, children=()):
    self.label = label
    self.children = list(children)

  def __eq__(self, other):
    return (isinstance(other, Tree) and self.label == other.label and
            self.children == other.children)

  def __repr__(self):
    return f"Tree({self.to_string()!r})"

  def leaves(self):
    """The words, in order (without recursion: any depth of nesting)."""
    out, stack = [], [iter(self.children)]
    while stack:
      for child in stack[-1]:
        if isinstance(child, Tree):
          stack.append(iter(child.children))
          break
        out.append(child)
      else:
        stack.pop()
    return out

  def is_preterminal(self):
    return len(self.children) == 1 and isinstance(self.children[0], str)

  def to_string(self):
    """Compact PTB brackets: "(S (NP (DT the) (NN dog)) (VP barks))"."""
    parts = [c.to_string() if isinstance(c, Tree) else c
             for c in self.children]
    return f"({self.label} {' '.join(parts)})" if parts else f"({self.label})"


def escape_word(word):
  """A word as a leaf: brackets become -LRB- etc., no whitespace inside."""
  if word in _ESCAPES:
    return _ESCAPES[word]
  word = re.sub(r"\s+", "_", word)
  return word.replace("(", "-LRB-").replace(")", "-RRB-")


def unescape_word(word):
  return _UNESCAPES.get(word, word)


def is_punctuation(word):
  return bool(word) and all(ch in _PUNCT_CHARS for ch in word)


def sentence(tree):
  """The sentence a tree covers: its words, space-separated, unescaped."""
  return " ".join(unescape_word(w) for w in tree.leaves())


def vocab_symbols():
  """Pieces a subword vocabulary should keep whole for linearised trees.

  Given to sentencepiece as user_defined_symbols, "\u2581(NP", "\u2581XX"
  and "\u2581)" become one piece each, so a tree costs about one piece per
  token; a vocabulary trained on prose alone splits "(NP" into 3 pieces
  and ")" into 2 (2.3 pieces per token measured on SILVER trees).
  """
  return ["\u2581(" + label for label in PHRASE_LABELS] + [
      "\u2581" + PLACEHOLDER, "\u2581)"]


# --- reading PTB brackets ---------------------------------------------------
def tokenize(text):
  return _TOKEN.findall(text)


def _read(tokens, i):
  """Reads one tree starting at tokens[i] == "("; returns (tree, next i)."""
  i += 1
  label = ""
  if i < len(tokens) and tokens[i] not in "()":
    label, i = tokens[i], i + 1
  node = Tree(label)
  while i < len(tokens):
    tok = tokens[i]
    if tok == ")":
      return node, i + 1
    if tok == "(":
      child, i = _read(tokens, i)
      node.children.append(child)
    else:
      node.children.append(tok)
      i += 1
  raise MalformedTree("missing closing bracket")


def read_trees(text):
  """All trees in a PTB bracket text (e.g. a .mrg file), in order.

  A tree may span many lines; the PTB's unlabelled outer wrapper
  "( (S ...) )" is kept as a node labelled "" (see `strip_wrapper`).
  """
  tokens, i, trees = tokenize(text), 0, []
  while i < len(tokens):
    if tokens[i] != "(":
      raise MalformedTree(f"text outside brackets: {tokens[i]!r}")
    tree, i = _read(tokens, i)
    trees.append(tree)
  return trees


def parse(text):
  """Exactly one well-formed tree, or MalformedTree."""
  trees = read_trees(text)
  if len(trees) != 1:
    raise MalformedTree(f"{len(trees)} trees where one was expected")
  return trees[0]


def strip_wrapper(tree):
  """Drops the PTB's outer "( ... )" (or ROOT / TOP) around one tree."""
  while (tree.label in ("", "ROOT", "TOP") and len(tree.children) == 1 and
         isinstance(tree.children[0], Tree)):
    tree = tree.children[0]
  return tree


def base_label(label):
  """NP-SBJ-1 -> NP, NP=2 -> NP, PRT|ADVP -> PRT; -NONE-, -LRB- unchanged."""
  if label.startswith("-"):
    return label
  return re.split(r"[-=|]", label, maxsplit=1)[0] or label


def normalize_ptb(tree, keep_pos=False):
  """A WSJ tree as the parsing problems use it.

  Empty elements (-NONE- traces) are removed with every constituent left
  empty by that; function tags and indices are stripped; part-of-speech
  preterminals are replaced by their words unless keep_pos. Returns None
  for a tree with no word left.
  """
  tree = strip_wrapper(tree)

  def clean(node):
    if node.label == "-NONE-":
      return None
    if node.is_preterminal():
      word = escape_word(node.children[0])
      return Tree(node.label, [word]) if keep_pos else word
    children = [c for c in (clean(ch) if isinstance(ch, Tree)
                            else escape_word(ch) for ch in node.children)
                if c is not None]
    return Tree(base_label(node.label), children) if children else None

  out = clean(tree)
  return out if isinstance(out, Tree) else None


# --- linearising and rebuilding --------------------------------------------
def linearize(tree, placeholder=PLACEHOLDER):
  """Tree -> "(S (NP XX XX ) (VP XX ) . )".

  placeholder=None keeps the words; otherwise every word but punctuation
  becomes the placeholder (preterminal labels, if any, are kept).
  """
  out = []

  def walk(node):
    out.append("(" + node.label)
    for child in node.children:
      if isinstance(child, Tree):
        walk(child)
      elif placeholder is None or is_punctuation(child):
        out.append(child)
      else:
        out.append(placeholder)
    out.append(")")

  walk(tree)
  return " ".join(out)


def rebuild(text):
  """A linearised tree -> Tree; MalformedTree unless it is exactly one tree.

  Stricter than `parse`: every bracket needs a label and a word.
  """
  tree, repaired = repair(text)
  if repaired:
    raise MalformedTree(f"not a well-formed linearised tree: {text[:80]!r}")
  return tree


def repair(text):
  """Any string -> (Tree or None, repaired: bool). The repair rule:

  1. "(" not directly followed by a label is dropped.
  2. ")" with no open bracket is dropped, and so is a ")" that would close
     the root while tokens follow (the rest stays inside the root).
  3. Brackets still open at the end are closed.
  4. Words before the first "(" become the root's first children.
  5. Constituents with no word are dropped.
  With no bracket left (or no word), the result is None: scored as empty.
  `repaired` is True when any rule fired: the output was malformed.
  """
  tokens = tokenize(text)
  repaired = False
  stack, root, pending = [], None, []
  i = 0
  while i < len(tokens):
    tok = tokens[i]
    if tok == "(":
      if i + 1 < len(tokens) and tokens[i + 1] not in "()":
        node = Tree(tokens[i + 1])
        if stack:
          stack[-1].children.append(node)
        else:  # Only the first tree can be a root: rule 2 keeps it open.
          root = node
          node.children.extend(pending)
        stack.append(node)
        i += 2
        continue
      repaired = True  # Rule 1.
    elif tok == ")":
      if not stack or (len(stack) == 1 and i + 1 < len(tokens)):
        repaired = True  # Rule 2.
      else:
        stack.pop()
    elif stack:
      stack[-1].children.append(tok)
    else:
      pending.append(tok)
      repaired = True  # Rule 4.
    i += 1
  if stack:
    repaired = True  # Rule 3.
  if root is None:
    return None, True
  root, dropped = _drop_empty(root)
  return root, repaired or dropped  # Rule 5.


def _drop_empty(root):
  """(root without constituents that hold no word, or None; any dropped?).

  Without recursion, so model output nested any depth is repaired, not a
  RecursionError. repair built these nodes: changing them is safe.
  """
  order, stack = [], [root]
  while stack:  # Pre-order; reversed, every node comes after its subtree.
    node = stack.pop()
    order.append(node)
    stack.extend(c for c in node.children if isinstance(c, Tree))
  empty, dropped = set(), False
  for node in reversed(order):
    kept = [c for c in node.children
            if not (isinstance(c, Tree) and id(c) in empty)]
    dropped |= len(kept) != len(node.children)
    node.children = kept
    if not kept:
      empty.add(id(node))
  if id(root) in empty:
    return None, True
  return root, dropped
