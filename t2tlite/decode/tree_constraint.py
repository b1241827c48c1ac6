"""Constrained decoding of linearised trees: well-formed by construction.

A search constraint (see t2tlite/decode/search.py) that lets greedy and beam
search emit only linearised trees, "(S (NP XX XX ) (VP XX ) . )", whose
leaves are exactly a given sequence, in a subword vocabulary where every
opening bracket "\u2581(LABEL" and the closing "\u2581)" are one piece
each (trees.vocab_symbols()). Each leaf is given as its pieces, which are
forced in order once the leaf is begun. At every step the allowed tokens
are:

  before the root    an opening bracket (EOS alone when there are no leaves)
  inside a leaf      only the leaf's next piece
  otherwise          the next leaf's first piece, if a leaf is left;
                     an opening bracket, if a leaf is left (so no
                       constituent is empty) and the steps left can still
                       hold the remaining leaf pieces, one ")" per open
                       bracket and EOS;
                     ")" unless the last token opened a bracket (no empty
                       constituent) or it would close the root before the
                       leaves are used up
  after the root     only EOS

So brackets balance, every opening bracket carries a label, there is one
root, the leaves are exactly the given ones, and the tree always ends (with
EOS) within `max_len` steps, provided max_len >= min_length(leaf pieces)
= pieces + 3 (root bracket, its ")", EOS): after any allowed token the
steps left hold at least the cheapest completion, and from such a state
some token is always allowed.

This module is library code: it knows nothing of problems or models.
"""
import logging

import numpy as np
import tensorflow as tf

from t2tlite.data.vocab import EOS_ID

NEG = -1e9
log = logging.getLogger("t2tlite")


def min_length(num_pieces):
  """Shortest decode (EOS included) that holds a tree of these leaf pieces:
  the root's bracket, the pieces, its ")" and EOS."""
  return num_pieces + 3 if num_pieces else 1


def leaf_arrays(leaves):
  """Per-example leaves -> padded numpy arrays for TreeConstraint.

  `leaves` is a list (one entry per example) of lists of leaves, each leaf
  a non-empty list of piece ids. Returns (pieces [N, P] int32, starts
  [N, P] bool: the piece begins a leaf, lengths [N] int32), P >= 1.
  """
  flat = [[p for leaf in ex for p in leaf] for ex in leaves]
  width = max([1] + [len(f) for f in flat])
  pieces = np.zeros([len(leaves), width], np.int32)
  starts = np.zeros([len(leaves), width], bool)
  lengths = np.zeros([len(leaves)], np.int32)
  for n, ex in enumerate(leaves):
    at = 0
    for leaf in ex:
      if not leaf:
        raise ValueError("a leaf needs at least one piece")
      pieces[n, at:at + len(leaf)] = leaf
      starts[n, at] = True
      at += len(leaf)
    lengths[n] = at
  return pieces, starts, lengths


class TreeConstraint:
  """The tree state machine as a search constraint (TF ops).

  open_ids: ids of the opening-bracket pieces; close_id: the ")" piece;
  vocab_size: the logits' last dimension; pieces, starts, lengths: the
  rows' forced leaf pieces (see leaf_arrays; one row per search row, so
  tiled to B*K for beam search); max_len: the rows' decode limits (a
  scalar or [rows]); each must be at least min_length(lengths).
  """

  def __init__(self, open_ids, close_id, vocab_size, pieces, starts, lengths,
               max_len, eos_id=EOS_ID, max_open_run=0):
    open_ids = sorted(set(int(i) for i in open_ids))
    if not open_ids or int(close_id) in open_ids:
      raise ValueError("need opening-bracket ids distinct from the close id")
    if max(open_ids + [int(close_id), eos_id]) >= vocab_size:
      raise ValueError("bracket ids outside the vocabulary")
    self.vocab_size = int(vocab_size)
    # > 0: at most this many opening brackets in a row before a leaf. Silver
    # trees open at most 8 in a row in 99.5% of sentences; an untrained
    # model under the constraint otherwise spends spare steps on chains
    # like "(PP (PP (PP (PP ..." when it miscounts the words.
    self.max_open_run = int(max_open_run)
    self.close_id = int(close_id)
    self.eos_id = int(eos_id)
    is_open = np.zeros([self.vocab_size], bool)
    is_open[open_ids] = True
    self.is_open = tf.constant(is_open)
    self.pieces = tf.cast(pieces, tf.int32)
    self.starts = tf.cast(starts, tf.bool)
    self.lengths = tf.cast(lengths, tf.int32)
    self.max_len = tf.broadcast_to(tf.cast(max_len, tf.int32),
                                   tf.shape(self.lengths))

  def initial_state(self):
    zeros = tf.zeros_like(self.lengths)
    no = tf.zeros_like(self.lengths, tf.bool)
    # pos: leaf pieces emitted; depth: open brackets; started: the root
    # was opened; last_open: the last token opened a bracket; ended: EOS.
    # run: opening brackets since the last leaf.
    return {"pos": zeros, "depth": zeros, "started": no, "last_open": no,
            "ended": no, "run": zeros}

  def _next_piece(self, state):
    """(the next leaf piece [rows], whether it begins a leaf [rows])."""
    at = tf.minimum(state["pos"], tf.shape(self.pieces)[1] - 1)[:, None]
    piece = tf.gather(self.pieces, at, batch_dims=1)[:, 0]
    start = tf.gather(self.starts, at, batch_dims=1)[:, 0]
    return piece, start

  def allowed(self, state, i):
    """Allowed tokens at step i: bool [rows, V]."""
    pos, depth = state["pos"], state["depth"]
    left = self.lengths - pos            # leaf pieces still to place
    steps = self.max_len - i - 1         # positions after this token
    piece, start = self._next_piece(state)
    boundary = (left <= 0) | start       # not inside a leaf
    inside = depth > 0
    can_open = ((inside | ~state["started"]) & boundary & (left > 0) &
                (left + depth + 2 <= steps))
    if self.max_open_run > 0:
      can_open &= state["run"] < self.max_open_run
    can_leaf = inside & (left > 0)
    can_close = (inside & boundary & ~state["last_open"] &
                 ((depth > 1) | (left <= 0)))
    can_eos = (state["ended"] | (state["started"] & ~inside) |
               (~state["started"] & (self.lengths <= 0)))
    ids = tf.range(self.vocab_size)[None, :]
    return ((self.is_open[None, :] & can_open[:, None]) |
            (tf.equal(ids, self.close_id) & can_close[:, None]) |
            (tf.equal(ids, piece[:, None]) & can_leaf[:, None]) |
            (tf.equal(ids, self.eos_id) & can_eos[:, None]))

  def mask(self, state, i):
    """Additive mask [rows, V]: 0 where allowed, NEG elsewhere."""
    return tf.where(self.allowed(state, i), 0.0, NEG)

  def update(self, state, token, i):
    del i
    token = tf.cast(token, tf.int32)
    opens = tf.gather(self.is_open, token)
    closes = tf.equal(token, self.close_id)
    piece, _ = self._next_piece(state)
    leaf = (~opens & ~closes & tf.equal(token, piece) &
            (state["pos"] < self.lengths))
    return {
        "pos": state["pos"] + tf.cast(leaf, tf.int32),
        "depth": (state["depth"] + tf.cast(opens, tf.int32) -
                  tf.cast(closes, tf.int32)),
        "started": state["started"] | opens,
        "last_open": opens,
        "ended": state["ended"] | tf.equal(token, self.eos_id),
        "run": tf.where(leaf, 0, state["run"] + tf.cast(opens, tf.int32)),
    }


class TreeDecoding:
  """What a decoder needs to constrain one problem's trees.

  vocab: the subword vocabulary (encode(text) -> ids, size); labels: the
  phrase labels, each "(LABEL" of which must be one piece, as must ")"
  (else ValueError); leaves_fn(input ids) -> the leaves the tree of that
  input must have, each a list of piece ids, as the problem's targets
  encode them.

  The decoder's side (duck-typed, so other constraints can follow):
    prepare(arrays) -> (features: tuple of numpy arrays [N, ...],
                        min_lengths [N])
    feature_signature: tf.TensorSpecs of those features
    constraint(features, max_len, beam) -> the search constraint, rows
      tiled to B*beam (features are [B, ...] tensors, max_len [B]).
  """

  def __init__(self, vocab, labels, leaves_fn, max_open_run=8):
    self.leaves_fn = leaves_fn
    self.max_open_run = max_open_run
    opens = [vocab.encode("(" + label) for label in labels]
    close = vocab.encode(")")
    if any(len(p) != 1 for p in opens) or len(close) != 1:
      raise ValueError("the vocabulary does not keep every \"(LABEL\" and "
                       "\")\" as one piece (trees.vocab_symbols())")
    self.open_ids = [p[0] for p in opens]
    self.close_id = close[0]
    self.vocab_size = vocab.size

  def prepare(self, arrays):
    pieces, starts, lengths = leaf_arrays([self.leaves_fn(a) for a in arrays])
    mins = np.array([min_length(int(n)) for n in lengths], np.int64)
    return (pieces, starts.astype(np.int32), lengths), mins

  feature_signature = (tf.TensorSpec([None, None], tf.int32),
                       tf.TensorSpec([None, None], tf.int32),
                       tf.TensorSpec([None], tf.int32))

  def constraint(self, features, max_len, beam=1):
    pieces, starts, lengths = features
    if beam > 1:
      pieces, starts, lengths, max_len = (
          tf.repeat(t, beam, axis=0)
          for t in (pieces, starts, lengths, max_len))
    return TreeConstraint(self.open_ids, self.close_id, self.vocab_size,
                          pieces, starts, lengths, max_len,
                          max_open_run=self.max_open_run)


def for_grammar(grammar, problem_name=""):
  """The TreeDecoding of a codec's TreeGrammar; None for no grammar, or
  (with a warning) when the vocabulary splits the bracket pieces."""
  if grammar is None:
    return None
  try:
    return TreeDecoding(grammar.vocab, grammar.labels, grammar.leaves_fn)
  except ValueError as e:
    log.warning("%s: decoding unconstrained: %s", problem_name, e)
    return None
