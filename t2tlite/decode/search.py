"""Greedy and beam search over an incremental step function.

`step_fn(prev_ids [N], i, cache) -> (logits [N, V], cache)` where the cache
is a nested structure of tensors whose first dimension is N. Both searches
are a single tf.while_loop, so they compile once for all input lengths.

Caches may grow along any axis but the last (self-attention keys and values
gain a position a step): the loops relax every other dimension of the
cache's shapes (see `cache_shapes`). Beam search reorders the cache rows
after each step to follow the beams kept. Entries under a dict key STATIC ("static") at any depth are functions
of the source alone (the keys and values of source attention): every beam
of one source holds the same rows, so reordering, which only permutes the
beams of one source, would copy them unchanged; they are left as they are.
At beam 4 and batch 32 that copy was a fifth of each step.

Both searches take an optional `constraint` that limits which tokens may
come next (e.g. t2tlite/decode/tree_constraint.py: well-formed parse trees). It
has `initial_state()` (a nested structure of tensors with one row per
search row: B, or B*K for beam search), `mask(state, i)` (additive
[rows, V] float32, 0 where allowed and a large negative number elsewhere,
added to the step's logits before the softmax) and `update(state, token,
i)` (the state after emitting `token` [rows] at step i). Its state travels
in the loop's cache, so beam search reorders it with the beams. Without a
constraint the searches are exactly as they were.
"""
import tensorflow as tf

from t2tlite.data.vocab import EOS_ID

INF = 1e7
STATIC = "static"


def length_penalty(length, alpha):
  """GNMT's ((5 + |Y|) / 6)^alpha."""
  return tf.pow((5.0 + tf.cast(length, tf.float32)) / 6.0, alpha)


def cache_shapes(cache):
  """Shape invariants of a cache in a while loop: every dimension but the
  last (the channels) may change from step to step."""
  return tf.nest.map_structure(
      lambda t: tf.TensorShape([None] * (t.shape.rank - 1) + t.shape[-1:]),
      cache)


def _loop(cond, body, init):
  """tf.while_loop with the cache (the last loop variable) free to grow."""
  shapes = tuple(t.shape for t in init[:-1]) + (cache_shapes(init[-1]),)
  return tf.while_loop(cond, body, init, shape_invariants=shapes)


def greedy_search(step_fn, cache, batch, max_len, constraint=None):
  """Returns ids [B, max_len], zero-padded after the first EOS."""

  def body(i, prev, ids, done, cache):
    if constraint is not None:
      cache, cstate = cache
    logits, cache = step_fn(prev, i, cache)
    logits = tf.cast(logits, tf.float32)
    if constraint is not None:
      logits += constraint.mask(cstate, i)
    nxt = tf.argmax(logits, axis=-1, output_type=tf.int32)
    nxt = tf.where(done, tf.zeros_like(nxt), nxt)
    ids = ids + tf.one_hot(i, max_len, dtype=tf.int32)[None, :] * nxt[:, None]
    done = done | tf.equal(nxt, EOS_ID)
    if constraint is not None:
      cache = (cache, constraint.update(cstate, nxt, i))
    return i + 1, nxt, ids, done, cache

  def cond(i, prev, ids, done, cache):
    return (i < max_len) & ~tf.reduce_all(done)

  if constraint is not None:
    cache = (cache, constraint.initial_state())
  init = (tf.constant(0), tf.zeros([batch], tf.int32),
          tf.zeros([batch, max_len], tf.int32), tf.zeros([batch], tf.bool),
          cache)
  _, _, ids, _, _ = _loop(cond, body, init)
  return ids


def _gather_beams(tree, indices, batch, beam):
  """Reorders [B*K, ...] tensors by beam indices [B, K]; STATIC entries are
  kept as they are."""
  flat = tf.reshape(indices + tf.range(batch)[:, None] * beam, [-1])

  def reorder(node):
    if isinstance(node, dict):
      return {k: v if k == STATIC else reorder(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
      return type(node)(reorder(v) for v in node)
    return tf.gather(node, flat)

  return reorder(tree)


def tile_beams(tree, beam):
  """[B, ...] -> [B*K, ...], each batch entry repeated K times."""
  return tf.nest.map_structure(lambda t: tf.repeat(t, beam, axis=0), tree)


def beam_search(step_fn, cache, batch, beam, max_len, alpha=0.6,
                constraint=None):
  """Returns (ids [B, K, max_len], scores [B, K]), best first.

  The cache must already be tiled to B*K rows (see tile_beams), and so
  must a constraint's rows. Finished hypotheses are scored by
  log-probability over the GNMT length penalty; the loop stops early once
  no alive beam can beat the finished ones. With a constraint, the
  log-probabilities are those of the masked (renormalised) distribution;
  beams of a source with fewer allowed continuations than beams are
  filled with disallowed ones, which score about -1e9 and so are never
  returned ahead of an allowed hypothesis.
  """
  return _beam_search(step_fn, cache, batch, beam, max_len, alpha,
                      constraint, with_valid=False)


def beam_search_nbest(step_fn, cache, batch, beam, max_len, alpha=0.6,
                      constraint=None):
  """beam_search's hypotheses with a flag for the real ones: returns
  (ids [B, K, max_len], scores [B, K], valid [B, K] bool), best first.

  The ids and scores are exactly beam_search's (so the first is the same
  1-best). `valid` marks the hypotheses an n-best list shows: the finished
  ones, or the alive beams of a source that has none finished; a source
  whose search reached max_len with fewer than K finished hypotheses has
  fewer than K valid ones (the rest are placeholders scored -INF), and so
  does one whose constraint allowed fewer than K continuations.
  """
  return _beam_search(step_fn, cache, batch, beam, max_len, alpha,
                      constraint, with_valid=True)


def _beam_search(step_fn, cache, batch, beam, max_len, alpha, constraint,
                 with_valid):
  onehot_pos = lambda i: tf.one_hot(i, max_len, dtype=tf.int32)

  def body(i, alive_seq, alive_logp, fin_seq, fin_score, fin_flag, cache):
    prev = tf.reshape(tf.reduce_sum(
        alive_seq * tf.one_hot(tf.maximum(i - 1, 0), max_len,
                               dtype=tf.int32), axis=-1), [-1])
    if constraint is not None:
      cache, cstate = cache
    logits, cache = step_fn(prev, i, cache)
    logits = tf.cast(logits, tf.float32)
    if constraint is not None:
      logits += constraint.mask(cstate, i)
    logp = tf.nn.log_softmax(logits)
    vocab = tf.shape(logp)[-1]
    logp = tf.reshape(logp, [batch, beam, -1]) + alive_logp[:, :, None]
    flat = tf.reshape(logp, [batch, -1])
    top_logp, top_idx = tf.nn.top_k(flat, k=2 * beam)
    beam_idx, token = top_idx // vocab, top_idx % vocab
    # Sequences of the 2K candidates, with the new token written at i.
    idx = beam_idx + tf.range(batch)[:, None] * beam
    cand_seq = tf.gather(tf.reshape(alive_seq, [batch * beam, max_len]),
                         idx)
    cand_seq += onehot_pos(i)[None, None, :] * token[:, :, None]
    is_eos = tf.equal(token, EOS_ID)
    # Alive: best K candidates that did not end.
    alive_cand = top_logp + tf.cast(is_eos, tf.float32) * -INF
    alive_logp2, a_idx = tf.nn.top_k(alive_cand, k=beam)
    alive_seq2 = tf.gather(cand_seq, a_idx, batch_dims=1)
    src_beams = tf.gather(beam_idx, a_idx, batch_dims=1)
    if constraint is not None:
      cache, cstate = _gather_beams((cache, cstate), src_beams, batch, beam)
      alive_token = tf.reshape(tf.gather(token, a_idx, batch_dims=1), [-1])
      cache = (cache, constraint.update(cstate, alive_token, i))
    else:
      cache = _gather_beams(cache, src_beams, batch, beam)
    # Finished: merge candidates that ended with the finished so far.
    score = top_logp / length_penalty(i + 1, alpha)
    score += (1.0 - tf.cast(is_eos, tf.float32)) * -INF
    all_seq = tf.concat([fin_seq, cand_seq], axis=1)
    all_score = tf.concat([fin_score, score], axis=1)
    all_flag = tf.concat([fin_flag, is_eos], axis=1)
    fin_score2, f_idx = tf.nn.top_k(all_score, k=beam)
    fin_seq2 = tf.gather(all_seq, f_idx, batch_dims=1)
    fin_flag2 = tf.gather(all_flag, f_idx, batch_dims=1)
    return (i + 1, alive_seq2, alive_logp2, fin_seq2, fin_score2, fin_flag2,
            cache)

  def cond(i, alive_seq, alive_logp, fin_seq, fin_score, fin_flag, cache):
    # The best an alive beam can still reach is its current log-prob over
    # the largest length penalty; stop when that cannot beat any finished.
    best_alive = alive_logp[:, 0] / length_penalty(max_len, alpha)
    worst_fin = tf.reduce_min(
        fin_score * tf.cast(fin_flag, tf.float32), axis=1)
    worst_fin += (1.0 - tf.cast(tf.reduce_all(fin_flag, axis=1),
                                tf.float32)) * -INF
    return (i < max_len) & ~tf.reduce_all(worst_fin > best_alive)

  alive_logp = tf.tile([[0.0] + [-INF] * (beam - 1)], [batch, 1])
  if constraint is not None:
    cache = (cache, constraint.initial_state())
  init = (tf.constant(0), tf.zeros([batch, beam, max_len], tf.int32),
          alive_logp, tf.zeros([batch, beam, max_len], tf.int32),
          tf.fill([batch, beam], -INF), tf.zeros([batch, beam], tf.bool),
          cache)
  _, alive_seq, alive_logp, fin_seq, fin_score, fin_flag, _ = _loop(
      cond, body, init)
  # Entries with no finished hypothesis fall back to their alive beams.
  any_fin = tf.reduce_any(fin_flag, axis=1)
  seq = tf.where(any_fin[:, None, None], fin_seq, alive_seq)
  scores = tf.where(any_fin[:, None], fin_score,
                    alive_logp / length_penalty(max_len, alpha))
  if not with_valid:
    return seq, scores
  # Real hypotheses: the finished ones (or, with none, the alive beams),
  # not the -INF placeholders of a finished list not yet full nor a
  # constraint's disallowed fill (about -1e9).
  valid = tf.where(any_fin[:, None], fin_flag, tf.ones_like(fin_flag))
  return seq, scores, valid & (scores > -INF / 10)


# --- sampling -----------------------------------------------------------------
_GOLDEN = 0x9E3779B9  # 2^32 / golden ratio: spreads consecutive integers


def _u32(x):
  return tf.constant(x, tf.uint32) if isinstance(x, int) else x


def _range_u32(start, limit):
  return tf.cast(tf.range(start, limit), tf.uint32)  # no uint32 Range op


def _fmix32(h):
  """MurmurHash3's 32-bit finaliser: a well-mixed uint32 of a uint32."""
  h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, _u32(16)))
  h = h * _u32(0x85EBCA6B)
  h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, _u32(13)))
  h = h * _u32(0xC2B2AE35)
  return tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, _u32(16)))


def input_keys(inputs):
  """One uint32 per row of `inputs` [B, ...] from its contents alone:
  trailing zero padding (a batch's padding) does not change it, so a row
  gets the same key whatever it is batched with."""
  flat = tf.reshape(inputs, [tf.shape(inputs)[0], -1])
  if flat.dtype.is_floating:
    bits = tf.bitcast(tf.cast(flat, tf.float32), tf.uint32)
  else:
    bits = tf.cast(tf.cast(flat, tf.int64) % (1 << 32), tf.uint32)
  pos = _fmix32(_range_u32(1, tf.shape(flat)[1] + 1) * _u32(_GOLDEN))
  terms = _fmix32(bits * _u32(0x27D4EB2F) + pos[None, :])
  terms = tf.where(tf.equal(bits, 0), tf.zeros_like(terms), terms)
  # A uint32 sum that wraps around (reduce_sum in uint64, then mod).
  total = tf.reduce_sum(tf.cast(terms, tf.uint64), axis=1)
  return tf.cast(total % (1 << 32), tf.uint32)


def sample_keys(inputs, samples, seed):
  """Row keys [B * samples] for sample_search: row r is sample r % samples
  of source r // samples (the layout of tile_beams), a function of the
  source's contents, the sample's index and the int `seed`."""
  per_source = _fmix32(input_keys(inputs) ^ _fmix32(
      _u32(int(seed) % (1 << 32))))
  index = _range_u32(0, samples)
  keys = _fmix32(per_source[:, None] + _fmix32(index * _u32(_GOLDEN) +
                                               _u32(1))[None, :])
  return tf.reshape(keys, [-1])


def _gumbel(keys, i, vocab):
  """Gumbel(0, 1) noise [N, vocab], a pure function of (key, step, token)."""
  step = _fmix32(tf.cast(i, tf.uint32) * _u32(0x85EBCA77) + _u32(_GOLDEN))
  token = _range_u32(0, vocab) * _u32(0xC2B2AE3D)
  h = _fmix32(_fmix32(keys ^ step)[:, None] + token[None, :])
  u = (tf.cast(tf.bitwise.right_shift(h, _u32(8)), tf.float32) + 0.5) / (
      1 << 24)  # in (0, 1)
  return -tf.math.log(-tf.math.log(u))


def sample_search(step_fn, cache, batch, max_len, temperature=1.0, top_k=0,
                  keys=None, alpha=0.6, constraint=None):
  """Ancestral sampling; returns (ids [N, max_len] zero-padded after the
  first EOS, scores [N]).

  Each row draws its next token from softmax(logits / temperature), over
  the `top_k` most likely tokens only when top_k > 0 (after a
  constraint's mask, so a constraint is honoured as in the other
  searches). The draw is the Gumbel-max trick with noise that is a pure
  function of the row's key (`keys` [N] uint32, see sample_keys), the step
  and the token: the same keys give the same samples. temperature <= 0 or
  top_k == 1 is greedy search (the same ids as greedy_search) and needs no
  keys. The cache (and a constraint's rows) are laid out as for
  greedy_search, with N = `batch` rows; for several samples per source,
  tile them as for beam search.

  Scores are as beam_search's: the log-probability of the output under
  the model (temperature 1, all tokens; the constraint's renormalised
  distribution with a constraint), EOS included, over the GNMT length
  penalty of its length (max_len for an output that never ended).
  """
  greedy = temperature <= 0 or top_k == 1
  if not greedy and keys is None:
    raise ValueError("sample_search needs keys (see sample_keys) unless "
                     "it is greedy")

  def body(i, prev, ids, done, logp, length, cache):
    if constraint is not None:
      cache, cstate = cache
    logits, cache = step_fn(prev, i, cache)
    logits = tf.cast(logits, tf.float32)
    if constraint is not None:
      logits += constraint.mask(cstate, i)
    if greedy:
      nxt = tf.argmax(logits, axis=-1, output_type=tf.int32)
    else:
      x = logits / temperature
      if top_k > 0:
        k = tf.minimum(top_k, tf.shape(x)[-1])
        kth = tf.math.top_k(x, k=k).values[:, -1:]
        x = tf.where(x < kth, tf.fill(tf.shape(x), -float("inf")), x)
      x += _gumbel(keys, i, tf.shape(x)[-1])
      nxt = tf.argmax(x, axis=-1, output_type=tf.int32)
    token_logp = tf.gather(tf.nn.log_softmax(logits), nxt, batch_dims=1)
    nxt = tf.where(done, tf.zeros_like(nxt), nxt)
    logp += tf.where(done, tf.zeros_like(token_logp), token_logp)
    length += tf.cast(~done, tf.int32)
    ids = ids + tf.one_hot(i, max_len, dtype=tf.int32)[None, :] * nxt[:, None]
    done = done | tf.equal(nxt, EOS_ID)
    if constraint is not None:
      cache = (cache, constraint.update(cstate, nxt, i))
    return i + 1, nxt, ids, done, logp, length, cache

  def cond(i, prev, ids, done, logp, length, cache):
    return (i < max_len) & ~tf.reduce_all(done)

  if constraint is not None:
    cache = (cache, constraint.initial_state())
  init = (tf.constant(0), tf.zeros([batch], tf.int32),
          tf.zeros([batch, max_len], tf.int32), tf.zeros([batch], tf.bool),
          tf.zeros([batch], tf.float32), tf.zeros([batch], tf.int32), cache)
  _, _, ids, _, logp, length, _ = _loop(cond, body, init)
  return ids, logp / length_penalty(length, alpha)
