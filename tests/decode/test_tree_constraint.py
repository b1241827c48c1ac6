"""Constrained tree decoding: random logits still give well-formed trees
with exactly the input's leaves, within every row's decode limit."""
import numpy as np
import pytest
import tensorflow as tf

from t2tlite.decode import search
from t2tlite.decode import tree_constraint
from t2tlite.data import trees
from t2tlite.data.vocab import EOS_ID

# A small fake vocabulary laid out like shared_subword_8k's tree pieces.
PIECES = (["<pad>", "</s>", "<unk>"] +
          ["\u2581(" + label for label in trees.PHRASE_LABELS] +
          ["\u2581)", "\u2581XX", "\u2581,", "\u2581.", "\u2581", "\u2581foo",
           "\u2581qu", "bar", "baz", "x", ",", "\u2581-LRB-"])
ID = {p: i for i, p in enumerate(PIECES)}
V = len(PIECES)
OPEN_IDS = [ID["\u2581(" + label] for label in trees.PHRASE_LABELS]
CLOSE_ID = ID["\u2581)"]
WORD_STARTS = [ID[p] for p in ("\u2581XX", "\u2581,", "\u2581.", "\u2581",
                               "\u2581foo", "\u2581qu", "\u2581-LRB-")]
CONTINUATIONS = [ID[p] for p in ("bar", "baz", "x", ",")]


def to_text(ids):
  ids = [int(i) for i in ids]
  if EOS_ID in ids:
    ids = ids[:ids.index(EOS_ID)]
  return "".join(PIECES[i] for i in ids if i > 2).replace("\u2581", " ").strip()


def random_leaves(rng, n_words):
  """n_words leaves of 1-3 pieces: a word start, then continuations."""
  leaves = []
  for _ in range(n_words):
    start = int(rng.choice(WORD_STARTS))
    # "\u2581" alone is no word: it always has a continuation.
    extra = rng.integers(1 if PIECES[start] == "\u2581" else 0, 3)
    leaves.append([start] + [int(rng.choice(CONTINUATIONS))
                             for _ in range(extra)])
  return leaves


def leaf_text(leaf):
  return "".join(PIECES[i] for i in leaf).replace("\u2581", "")


def make_batch(rng, batch, long_len=60):
  """Random inputs: one-word ones, long ones, and limits from the exact
  minimum up (so some trees must use every step)."""
  leaves = []
  for n in range(batch):
    if n % 4 == 0:
      words = 1
    elif n % 4 == 1:
      words = int(rng.integers(long_len // 3, long_len // 2))
    else:
      words = int(rng.integers(1, 12))
    leaves.append(random_leaves(rng, words))
  pieces, starts, lengths = tree_constraint.leaf_arrays(leaves)
  slack = rng.choice([0, 0, 1, 2, 5, 40], size=batch)
  limits = np.array([tree_constraint.min_length(int(n)) + s
                     for n, s in zip(lengths, slack)], np.int32)
  return leaves, (pieces, starts, lengths), limits


BIASES = {
    "plain": {},
    "wants_brackets": {i: 8.0 for i in OPEN_IDS},  # would nest forever
    "wants_to_stop": {CLOSE_ID: 8.0, EOS_ID: 9.0},
    "wants_junk": {0: 9.0, 2: 9.0, ID["bar"]: 9.0, ID["\u2581foo"]: 8.0},
}


def random_step(seed, bias, scale=3.0):
  b = np.zeros([V], np.float32)
  for i, v in bias.items():
    b[i] = v
  b = tf.constant(b)

  def step(prev, i, cache):
    rows = tf.shape(prev)[0]
    noise = tf.random.stateless_normal([rows, V], seed=[seed, i]) * scale
    # Depend on the prefix too, through the previous token.
    noise += tf.one_hot(prev, V) * tf.random.stateless_normal(
        [V], seed=[seed + 1, i])[None, :] * scale
    return noise + b[None, :], cache
  return step


def check(ids_row, limit, leaves):
  """The row is a well-formed tree with these leaves, ending in EOS
  within its limit; returns the tree."""
  ids_row = [int(t) for t in ids_row]
  assert EOS_ID in ids_row[:limit], (ids_row, limit)
  end = ids_row.index(EOS_ID)
  assert all(t == 0 for t in ids_row[end + 1:])
  text = to_text(ids_row)
  tree = trees.rebuild(text)  # raises MalformedTree unless well formed
  assert trees.parse(text) == tree
  assert tree.leaves() == [leaf_text(l) for l in leaves], text
  assert text.count("(") == text.count(")")
  return tree


@pytest.mark.parametrize("bias", sorted(BIASES))
def test_greedy_random_logits_give_well_formed_trees(bias):
  rng = np.random.default_rng(len(bias))
  for trial in range(3):
    leaves, feats, limits = make_batch(rng, 12)
    cons = tree_constraint.TreeConstraint(OPEN_IDS, CLOSE_ID, V, *feats,
                                          limits)
    max_len = int(limits.max()) + 3
    ids = search.greedy_search(random_step(trial, BIASES[bias]), {},
                               len(leaves), max_len, constraint=cons)
    for row, limit, lv in zip(ids.numpy(), limits, leaves):
      check(row, int(limit), lv)


@pytest.mark.parametrize("bias", sorted(BIASES))
def test_beam_random_logits_give_well_formed_trees(bias):
  rng = np.random.default_rng(10 + len(bias))
  beam = 4
  for trial in range(2):
    leaves, feats, limits = make_batch(rng, 8)
    tiled = [np.repeat(f, beam, axis=0) for f in feats]
    cons = tree_constraint.TreeConstraint(
        OPEN_IDS, CLOSE_ID, V, *tiled, np.repeat(limits, beam))
    max_len = int(limits.max())
    cache = {"rows": tf.zeros([len(leaves) * beam, 1])}
    seqs, scores = search.beam_search(random_step(trial, BIASES[bias]),
                                      cache, len(leaves), beam, max_len,
                                      constraint=cons)
    seqs, scores = seqs.numpy(), scores.numpy()
    for b, (limit, lv) in enumerate(zip(limits, leaves)):
      check(seqs[b, 0], int(limit), lv)  # the output the decoder keeps
      # Every allowed hypothesis (score above the masks') is a tree too.
      valid = scores[b] > -1e5
      assert valid[0]
      for k in np.nonzero(valid)[0]:
        check(seqs[b, k], int(limit), lv)


def test_unconstrained_random_logits_are_malformed():
  """The same search without the constraint: the checks above would fail."""
  rng = np.random.default_rng(0)
  leaves, feats, limits = make_batch(rng, 12)
  ids = search.greedy_search(random_step(0, {}), {}, len(leaves),
                             int(limits.max()))
  failures = 0
  for row, limit, lv in zip(ids.numpy(), limits, leaves):
    try:
      check(row, int(limit), lv)
    except (AssertionError, trees.MalformedTree):
      failures += 1
  assert failures == len(leaves)


def random_tree(rng, leaves, depth=0):
  """A random well-formed tree (as piece ids) over these leaves: unary
  chains, nesting, flat runs."""
  out = [int(rng.choice(OPEN_IDS))]
  if depth < 2 and rng.random() < 0.3:  # a unary chain
    return out + random_tree(rng, leaves, depth + 1) + [CLOSE_ID]
  i = 0
  while i < len(leaves):
    n = int(rng.integers(1, len(leaves) - i + 1))
    if n > 1 and depth < 6 and rng.random() < 0.5:
      out += random_tree(rng, leaves[i:i + n], depth + 1)
    else:
      for leaf in leaves[i:i + n]:
        out += leaf
    i += n
  return out + [CLOSE_ID]


def allowed_path(seq, leaves, limit):
  """Feeds seq + EOS through the state machine; the first step whose token
  is not allowed, or None."""
  pieces, starts, lengths = tree_constraint.leaf_arrays([leaves])
  cons = tree_constraint.TreeConstraint(OPEN_IDS, CLOSE_ID, V, pieces,
                                        starts, lengths, [limit])
  state = cons.initial_state()
  for i, tok in enumerate(list(seq) + [EOS_ID]):
    if not bool(cons.allowed(state, i)[0, tok]):
      return i
    state = cons.update(state, tf.constant([tok]), i)
  return None


def test_every_tree_within_the_limit_is_allowed():
  rng = np.random.default_rng(5)
  for _ in range(40):
    leaves = random_leaves(rng, int(rng.integers(1, 8)))
    seq = random_tree(rng, leaves)
    assert check(seq + [EOS_ID], len(seq) + 1, leaves)
    assert allowed_path(seq, leaves, len(seq) + 1) is None  # exact fit
    assert allowed_path(seq, leaves, len(seq) + 9) is None
    # One step short: some opening bracket must be refused.
    assert allowed_path(seq, leaves, len(seq)) is not None


def test_malformed_continuations_are_refused():
  xx, np_, s = ID["\u2581XX"], ID["\u2581(NP"], ID["\u2581(S"]
  foo, bar = ID["\u2581foo"], ID["bar"]
  leaves = [[xx], [foo, bar]]
  good = [s, np_, xx, CLOSE_ID, foo, bar, CLOSE_ID]
  assert allowed_path(good, leaves, 20) is None
  bad = {
      "leaf before the root": [xx],
      "closing first": [CLOSE_ID],
      "empty constituent": [s, np_, CLOSE_ID],
      "root closed early": [s, xx, CLOSE_ID],
      "wrong leaf": [s, foo],
      "leaf cut short": [s, xx, foo, CLOSE_ID],
      "leaf piece out of order": [s, xx, bar],
      "bracket after the last leaf": [s, xx, foo, bar, np_],
      "EOS inside the tree": [s, xx, foo, bar, EOS_ID],
      "second root": [s, xx, foo, bar, CLOSE_ID, s],
      "padding": [s, 0],
  }
  for name, seq in bad.items():
    assert allowed_path(seq, leaves, 20) == len(seq) - 1, name


def test_no_leaves_allows_only_eos():
  pieces, starts, lengths = tree_constraint.leaf_arrays([[]])
  cons = tree_constraint.TreeConstraint(OPEN_IDS, CLOSE_ID, V, pieces,
                                        starts, lengths, 5)
  allowed = cons.allowed(cons.initial_state(), 0).numpy()[0]
  assert np.nonzero(allowed)[0].tolist() == [EOS_ID]
  assert tree_constraint.min_length(0) == 1
  assert tree_constraint.min_length(4) == 7


class FakeVocab:
  size = V

  def __init__(self, pieces=PIECES):
    self.ids = {p: i for i, p in enumerate(pieces)}

  def encode(self, text):
    """Whole words if known, else character by character."""
    out = []
    for word in text.split():
      if "\u2581" + word in self.ids:
        out.append(self.ids["\u2581" + word])
      else:
        out.append(self.ids["\u2581"])
        out.extend(self.ids.get(ch, 2) for ch in word)
    return out


def test_tree_decoding_prepares_features_and_tiles_beams():
  xx, foo, bar = ID["\u2581XX"], ID["\u2581foo"], ID["bar"]
  leaves = {1: [[xx], [foo, bar], [ID["\u2581"], ID[","], ID["x"]]],
            2: [[xx]]}
  dec = tree_constraint.TreeDecoding(FakeVocab(), trees.PHRASE_LABELS,
                                     lambda a: leaves[int(a[0])])
  assert dec.open_ids == OPEN_IDS and dec.close_id == CLOSE_ID
  (pieces, starts, lengths), mins = dec.prepare([np.array([1, 1]),
                                                 np.array([2, 1])])
  assert lengths.tolist() == [6, 1] and mins.tolist() == [9, 4]
  assert pieces[0].tolist() == [xx, foo, bar, ID["\u2581"], ID[","], ID["x"]]
  assert pieces[1].tolist() == [xx, 0, 0, 0, 0, 0]
  assert starts.tolist() == [[1, 1, 0, 1, 0, 0], [1, 0, 0, 0, 0, 0]]
  cons = dec.constraint(tuple(tf.constant(f) for f in (pieces, starts,
                                                       lengths)),
                        tf.constant([9, 11]), beam=3)
  assert cons.lengths.numpy().tolist() == [6, 6, 6, 1, 1, 1]
  assert cons.max_len.numpy().tolist() == [9, 9, 9, 11, 11, 11]


def test_tree_decoding_needs_whole_bracket_pieces():
  no_np = [p if p != "\u2581(NP" else "\u2581(NPX" for p in PIECES]
  with pytest.raises(ValueError, match="one piece"):
    tree_constraint.TreeDecoding(FakeVocab(no_np), trees.PHRASE_LABELS,
                                 lambda a: [])


def _longest_open_run(text):
  longest = run = 0
  for tok in text.split():
    if tok.startswith("("):
      run += 1
      longest = max(longest, run)
    elif tok != ")":
      run = 0
  return longest


@pytest.mark.parametrize("cap", [1, 3])
def test_open_run_cap_bounds_bracket_chains(cap):
  """A model that wants brackets nests at most `cap` of them before a
  leaf, and the trees stay well formed; without the cap it nests deeper."""
  rng = np.random.default_rng(7)
  leaves, feats, limits = make_batch(rng, 12)
  limits = limits + 30  # room to nest
  max_len = int(limits.max()) + 3
  longest = {}
  for name, limit_run in (("capped", cap), ("free", 0)):
    cons = tree_constraint.TreeConstraint(OPEN_IDS, CLOSE_ID, V, *feats,
                                          limits, max_open_run=limit_run)
    ids = search.greedy_search(
        random_step(3, BIASES["wants_brackets"]), {}, len(leaves), max_len,
        constraint=cons)
    runs = []
    for row, limit, lv in zip(ids.numpy(), limits, leaves):
      check(row, int(limit), lv)
      runs.append(_longest_open_run(to_text(row)))
    longest[name] = max(runs)
  assert longest["capped"] == cap
  assert longest["free"] > cap
