"""The bracket scorer on random trees and random strings (hypothesis):
a tree scores 100 against itself, scoring is symmetric where the rules
make it so (F1(a, b) = F1(b, a); precision and recall swap), and no input
crashes it: a broken hypothesis is a malformed count, a broken reference a
ValueError saying so."""
import collections
import random

from hypothesis import assume, given, settings, strategies as st
import pytest

from t2tlite.data import trees
from t2tlite.metrics import evalb

LABELS = ["S", "NP", "VP", "PP", "SBAR", "ADVP", "PRT", "X"]
WORDS = ["XX", "the", "dog", "U.S.", "-LRB-", "$", ".", ",", "``", "''",
         "--", "?"]
SETTINGS = settings(max_examples=200, deadline=None)
METRICS = ("labelled_precision", "labelled_recall", "labelled_f1",
           "unlabelled_precision", "unlabelled_recall", "unlabelled_f1",
           "exact_match")


def random_trees():
  leaf = st.sampled_from(WORDS)
  return st.recursive(
      st.builds(trees.Tree, st.sampled_from(LABELS),
                st.lists(leaf, min_size=1, max_size=3)),
      lambda sub: st.builds(trees.Tree, st.sampled_from(LABELS),
                            st.lists(sub | leaf, min_size=1, max_size=4)),
      max_leaves=30)


def bracketing(words, rnd):
  """A random tree over exactly `words` (unary chains included)."""
  def build(lo, hi, depth):
    children, i = [], lo
    while i < hi:
      j = rnd.randint(i + 1, hi)
      if depth >= 6 or (j - i == 1 and rnd.random() < 0.5):
        children.extend(words[i:j])
      else:
        children.append(build(i, j, depth + 1))
      i = j
    return trees.Tree(rnd.choice(LABELS), children)
  return build(0, len(words), 0)


def text(tree):
  return trees.linearize(tree, placeholder=None)


def has_word(tree):
  return any(not trees.is_punctuation(w) for w in tree.leaves())


def swapped(out):
  """The scores with hypothesis and reference exchanged."""
  flip = dict(out)
  for kind in ("labelled", "unlabelled"):
    flip[f"{kind}_precision"] = out[f"{kind}_recall"]
    flip[f"{kind}_recall"] = out[f"{kind}_precision"]
  return flip


def check_bounds(out, n):
  assert out["sentences"] == n
  for key in METRICS:
    assert 0.0 <= out[key] <= 100.0, (key, out)
  assert 0 <= out["malformed"] <= n and 0 <= out["length_mismatch"] <= n
  # Merging labels can only match more brackets.
  for m in ("precision", "recall", "f1"):
    assert out[f"unlabelled_{m}"] >= out[f"labelled_{m}"], out


@SETTINGS
@given(random_trees(), st.booleans())
def test_a_tree_scores_100_against_itself(tree, placeholder):
  t = trees.linearize(tree) if placeholder else text(tree)
  out = evalb.score([t], [t])
  assert out["malformed"] == out["length_mismatch"] == 0
  assert out["exact_match"] == 100.0
  if has_word(tree):
    for key in METRICS:
      assert out[key] == 100.0, (key, t, out)
  else:  # Only punctuation: no bracket to find, so nothing to score.
    assert out["labelled_f1"] == 0.0


@SETTINGS
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=14),
       st.randoms(use_true_random=False))
def test_two_parses_of_one_sentence_score_symmetrically(words, rnd):
  a, b = text(bracketing(words, rnd)), text(bracketing(words, rnd))
  ab, ba = evalb.score([a], [b]), evalb.score([b], [a])
  check_bounds(ab, 1)
  assert ab["length_mismatch"] == 0
  assert swapped(ab) == ba
  assert (ab["exact_match"] == 100.0) == (a == b or
                                          evalb.brackets(trees.rebuild(a)) ==
                                          evalb.brackets(trees.rebuild(b)))


@SETTINGS
@given(st.lists(st.tuples(random_trees(), random_trees()), min_size=1,
                max_size=6), st.randoms(use_true_random=False))
def test_a_corpus_scores_symmetrically_and_in_any_order(pairs, rnd):
  # Symmetric whenever both sides agree on which positions are punctuation:
  # the reference decides that only when the lengths are equal.
  def punct(t):
    return [trees.is_punctuation(w) for w in t.leaves()]
  for a, b in pairs:
    la, lb = a.leaves(), b.leaves()
    assume(len(la) != len(lb) or punct(a) == punct(b))
  hyps = [text(a) for a, _ in pairs]
  refs = [text(b) for _, b in pairs]
  ab, ba = evalb.score(hyps, refs), evalb.score(refs, hyps)
  check_bounds(ab, len(pairs))
  assert swapped(ab) == ba
  order = list(range(len(pairs)))
  rnd.shuffle(order)
  assert evalb.score([hyps[i] for i in order],
                     [refs[i] for i in order]) == ab


TOKENS = ["(", ")", "(S", "(NP", "(VP", "( S", "((", "))", "XX", "the", ".",
          ",", "``", "-LRB-", "", "\n", "\t", "(\u00e9", "x)y"]
GARBAGE = (st.lists(st.sampled_from(TOKENS), max_size=60).map(" ".join) |
           st.lists(st.sampled_from(TOKENS), max_size=60).map("".join) |
           st.text(max_size=80))


@SETTINGS
@given(GARBAGE, random_trees())
def test_any_hypothesis_is_scored_or_counted_malformed(hyp, ref):
  out = evalb.score([hyp], [text(ref)])
  check_bounds(out, 1)
  assert out["malformed"] == (0 if _well_formed(hyp) else 1)
  if out["malformed"]:
    assert out["exact_match"] == 0.0


@SETTINGS
@given(GARBAGE, random_trees())
def test_a_reference_that_is_no_tree_is_a_clear_error(ref, hyp):
  try:
    out = evalb.score([text(hyp)], [ref])
  except ValueError as e:
    assert "reference is not a tree" in str(e)
    assert not _well_formed(ref)
  else:
    assert _well_formed(ref)
    check_bounds(out, 1)


@SETTINGS
@given(random_trees(), random_trees())
def test_hypotheses_over_other_words_are_counted_not_crashes(hyp, ref):
  out = evalb.score([text(hyp)], [text(ref)])
  check_bounds(out, 1)
  assert out["malformed"] == 0
  assert out["length_mismatch"] == (len(hyp.leaves()) != len(ref.leaves()))


@pytest.mark.parametrize("depth", [1500, 5000])
def test_deep_nesting_is_scored_not_a_recursion_error(depth):
  deep = "(S " * depth + "XX" + " )" * depth
  out = evalb.score([deep], ["(S XX )"])
  assert out["labelled_recall"] == 100.0 and out["malformed"] == 0
  assert evalb.score(["(S XX )"], [deep])["labelled_precision"] == 100.0
  # Unclosed: repaired (rule 3), counted malformed.
  out = evalb.score(["(S " * depth + "XX"], ["(S XX )"])
  assert out["malformed"] == 1 and out["labelled_recall"] == 100.0


def test_mismatched_lists_are_an_error():
  with pytest.raises(ValueError, match="2 hypotheses for 1 references"):
    evalb.score(["(S XX )", "(S XX )"], ["(S XX )"])


def _well_formed(s):
  try:
    trees.rebuild(s)
  except trees.MalformedTree:
    return False
  return True


def _recursive_brackets(tree, punctuation=None, pos_tags=False):
  """The scorer's bracket rule as first written (recursive), the oracle for
  the iterative walk that replaced it."""
  leaves = tree.leaves()
  if punctuation is None:
    punctuation = {i for i, w in enumerate(leaves)
                   if trees.is_punctuation(w)}
  position, n = [], 0
  for i in range(len(leaves)):
    position.append(None if i in punctuation else n)
    n += i not in punctuation
  out = collections.Counter()

  def walk(node, first):
    count = 0
    for child in node.children:
      if isinstance(child, trees.Tree):
        count += walk(child, first + count)
      else:
        count += 1
    if not (pos_tags and node.is_preterminal()):
      kept = [position[j] for j in range(first, first + count)
              if position[j] is not None]
      if kept:
        label = {"PRT": "ADVP"}.get(node.label, node.label)
        out[(label, kept[0], kept[-1] + 1)] += 1
    return count

  walk(tree, 0)
  return out


@SETTINGS
@given(random_trees(), st.booleans(), st.integers(0, 2**32 - 1))
def test_brackets_equal_the_recursive_rule(tree, pos_tags, seed):
  n = len(tree.leaves())
  punct = set(random.Random(seed).sample(range(n), k=n // 3))
  for p in (None, punct):
    assert evalb.brackets(tree, p, pos_tags) == _recursive_brackets(
        tree, p, pos_tags)
