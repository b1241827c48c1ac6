"""Bracket scoring of constituency trees, the way evalb (COLLINS.prm) does it.

The rules, stated once (the parsing problems' score() follows them):
- A bracket is (label, start, end) over word positions, one per constituent,
  counted as a multiset (a unary chain NP -> NP gives two brackets).
  Part-of-speech preterminals, when trees have them (pos_tags=True), are
  not brackets; without tags a one-word constituent "(NP it )" is one.
- The root constituent (S, ...) is a bracket, as in evalb, which deletes
  only the TOP wrapper. It spans every word, so it is nearly always right.
- Punctuation words (, . : ; ? ! quotes dashes, see trees.is_punctuation)
  are deleted before spans are counted, as evalb deletes the preterminals
  , : . `` ''; a constituent holding only punctuation is no bracket. When
  the hypothesis has as many words as the reference, the reference decides
  which positions are punctuation; otherwise each tree decides for itself.
- Labels ADVP and PRT are the same label (evalb's EQ_LABEL).
- A hypothesis with a different number of words from its reference is
  still scored (evalb would skip the sentence, which would reward broken
  output): its brackets rarely match past the first misplaced word. Such
  sentences are counted in `length_mismatch`.
- A hypothesis that is not one well-formed tree is repaired by
  trees.repair (rules there) and counted in `malformed`; one with no
  bracket or no word left is scored as an empty tree (no bracket).
- Precision, recall and F1 are micro-averaged over the corpus (matched
  brackets summed over sentences), in percent like evalb. Exact match: a
  well-formed hypothesis whose labelled brackets and number of words both
  equal the reference's, in percent.
"""
import collections

from t2tlite.data import trees as trees_lib

_EQUIVALENT_LABELS = {"PRT": "ADVP"}


def brackets(tree, punctuation=None, pos_tags=False):
  """Counter of (label, start, end) for a Tree; see the module's rules.

  `punctuation`: a set of word positions to delete; None: the tree's own
  punctuation words. `pos_tags`: the tree's preterminals are tags.
  """
  if tree is None:
    return collections.Counter()
  leaves = tree.leaves()
  if punctuation is None:
    punctuation = {i for i, w in enumerate(leaves)
                   if trees_lib.is_punctuation(w)}
  # before[i]: the words (not punctuation) among leaves 0..i-1, so leaves
  # first..end-1 span the words before[first]..before[end]-1.
  before = [0]
  for i in range(len(leaves)):
    before.append(before[-1] + (i not in punctuation))
  out = collections.Counter()
  # A depth-first walk without recursion (any depth of nesting): a frame
  # is [node, index of its first leaf, leaves counted so far, children].
  frames = [[tree, 0, 0, iter(tree.children)]]
  while frames:
    frame = frames[-1]
    node, first, count, children = frame
    for child in children:
      if isinstance(child, trees_lib.Tree):
        frames.append([child, first + count, 0, iter(child.children)])
        break
      count += 1
    else:
      frames.pop()
      if frames:
        frames[-1][2] += count
      start, end = before[first], before[first + count]
      if end > start and not (pos_tags and node.is_preterminal()):
        label = _EQUIVALENT_LABELS.get(node.label, node.label)
        out[(label, start, end)] += 1
      continue
    frame[2] = count
  return out


def _unlabelled(counter):
  out = collections.Counter()
  for (_, start, end), k in counter.items():
    out[(start, end)] += k
  return out


def _prf(matched, hyp_total, ref_total):
  p = matched / hyp_total if hyp_total else 0.0
  r = matched / ref_total if ref_total else 0.0
  f = 2 * p * r / (p + r) if p + r else 0.0
  return 100 * p, 100 * r, 100 * f


def score(hypotheses, references, pos_tags=False):
  """Bracket P/R/F1 (labelled, unlabelled), exact match and counts.

  Both are lists of linearised tree strings; a reference must be a
  well-formed tree (ValueError otherwise).
  """
  if len(hypotheses) != len(references):
    raise ValueError(f"{len(hypotheses)} hypotheses for "
                     f"{len(references)} references")
  totals = collections.Counter()
  for hyp_text, ref_text in zip(hypotheses, references):
    try:
      ref = trees_lib.rebuild(ref_text)
    except trees_lib.MalformedTree as e:
      raise ValueError(f"reference is not a tree: {e}") from None
    hyp, repaired = trees_lib.repair(hyp_text)
    totals["malformed"] += repaired
    ref_leaves = ref.leaves()
    hyp_leaves = hyp.leaves() if hyp is not None else []
    same_length = len(hyp_leaves) == len(ref_leaves)
    totals["length_mismatch"] += not same_length
    ref_punct = {i for i, w in enumerate(ref_leaves)
                 if trees_lib.is_punctuation(w)}
    gold = brackets(ref, ref_punct, pos_tags)
    test = brackets(hyp, ref_punct if same_length else None,
                    pos_tags)
    totals["matched"] += sum((gold & test).values())
    totals["gold"] += sum(gold.values())
    totals["test"] += sum(test.values())
    ugold, utest = _unlabelled(gold), _unlabelled(test)
    totals["umatched"] += sum((ugold & utest).values())
    totals["exact"] += same_length and not repaired and gold == test
    totals["sentences"] += 1
  lp, lr, lf = _prf(totals["matched"], totals["test"], totals["gold"])
  up, ur, uf = _prf(totals["umatched"], totals["test"], totals["gold"])
  n = totals["sentences"]
  return {
      "labelled_precision": round(lp, 2), "labelled_recall": round(lr, 2),
      "labelled_f1": round(lf, 2),
      "unlabelled_precision": round(up, 2),
      "unlabelled_recall": round(ur, 2), "unlabelled_f1": round(uf, 2),
      "exact_match": round(100 * totals["exact"] / n, 2) if n else 0.0,
      "malformed": totals["malformed"],
      "length_mismatch": totals["length_mismatch"],
      "sentences": n,
  }
