"""CTC decoding: best-path ids, the CTC beam's label sequences, candidates'
CTC log-probabilities against a brute-force sum over alignments, and the
joint rescoring of attention and CTC hypotheses (ctc_rescore)."""

import numpy as np
import pytest
import tensorflow as tf

from t2tlite import registry
from t2tlite.data.problem import ProblemSpec
from t2tlite.decode import ctc_rescore
from t2tlite.decode import decoder as decoder_lib
from t2tlite.hparams import multimodel as _multimodel_hparams  # noqa: F401
from t2tlite.layers import ctc
from t2tlite.models.multimodel import body
from t2tlite.train import seeding

from conftest import ctc_brute_force_nll

VOCAB = 8


def peaked(path, v=VOCAB, margin=6.0):
  """Logits [1, T, v] whose best class at frame t is path[t]."""
  x = np.zeros((1, len(path), v), np.float32)
  for t, k in enumerate(path):
    x[0, t, k] = margin
  return tf.constant(x)


def test_best_path_merges_repeats_drops_blanks_and_padded_frames():
  logits = peaked([3, 3, 0, 3, 4, 4, 5])
  mask = tf.constant([[True] * 6 + [False]])  # the 5 is padding
  ids = ctc.greedy_ids(logits, mask, 10).numpy()
  assert ids.tolist() == [[3, 3, 4, 1, 0, 0, 0, 0, 0, 0]]
  # Cut to max_len - 1 labels, then EOS.
  assert ctc.greedy_ids(logits, mask, 3).numpy().tolist() == [[3, 3, 1]]


def test_the_ctc_beam_finds_the_best_path_and_returns_distinct_paths():
  logits = peaked([0, 5, 5, 0, 2, 0, 2])
  mask = tf.ones([1, 7], tf.bool)
  ids = ctc.beam_ids(logits, mask, 8, 3, 6).numpy()
  assert ids.shape == (1, 3, 6)
  assert ids[0, 0].tolist() == [5, 2, 2, 1, 0, 0]
  rows = {tuple(r) for r in ids[0]}
  assert len(rows) == 3 and all(1 in r for r in rows)  # each ends in EOS


def _brute_logp(logits, labels):
  return -ctc_brute_force_nll(logits, labels)


def test_candidate_log_probabilities_sum_over_alignments():
  rng = np.random.default_rng(0)
  logits = rng.normal(size=(1, 5, 4)).astype(np.float32)
  cands = np.array([[2, 3, 1, 0], [3, 3, 2, 1], [1, 0, 0, 0],
                    [2, 2, 2, 1]])  # [2 2 2] needs 5 frames: feasible
  got = ctc.sequence_logp(tf.constant(np.repeat(logits, 4, 0)),
                          tf.ones([4, 5], tf.bool), tf.constant(cands))
  want = [_brute_logp(logits[0], [2, 3]), _brute_logp(logits[0], [3, 3, 2]),
          _brute_logp(logits[0], []), _brute_logp(logits[0], [2, 2, 2])]
  np.testing.assert_allclose(got.numpy(), want, rtol=1e-4)
  # Too many labels for the frames: no path at all.
  long = ctc.sequence_logp(tf.constant(logits), tf.ones([1, 5], tf.bool),
                           tf.constant([[2, 2, 2, 2, 1]]))
  assert long.numpy()[0] <= -1e8


SPEC = ProblemSpec("speech", "audio", 0, None, "text", VOCAB, "v",
                   "to_transcript_en", 3)


def _speech_model():
  hp = registry.hparams("multimodel_tiny").override(
      "audio_blocks=2,ctc_weight=0.5")
  seeding.seed_everything(3)
  model = body.MultiModel(hp, [SPEC])
  x = np.random.default_rng(2).normal(size=(2, 40, 80)).astype(np.float32)
  return model, tf.constant(x)


def test_rescoring_orders_every_candidate_by_the_joint_score():
  model, x = _speech_model()
  state, _ = model.encode(x, "speech", training=False)
  att = tf.constant([[[3, 4, 1, 0, 0], [5, 1, 0, 0, 0]],
                     [[6, 1, 0, 0, 0], [6, 6, 6, 1, 7]]], tf.int32)
  valid = tf.constant([[True, True], [True, False]])
  ids, score, ok = ctc_rescore.rescore(model, "speech", x, state,
                                       (att, None, valid), 5, 0.3, 2)
  assert ids.shape == (2, 4, 5)
  ids, score, ok = ids.numpy(), score.numpy(), ok.numpy()
  logits, mask = ctc.head_logits(model, "speech", state, x)
  for b in range(2):
    assert list(score[b]) == sorted(score[b], reverse=True)
    assert ok[b].sum() == (4 if b == 0 else 3)  # the invalid beam is last
    assert not ok[b, -1] or b == 0
    for k in range(4):
      if not ok[b, k]:
        continue
      row = tf.constant(ids[b:b + 1, k])
      one = tf.nest.map_structure(lambda t, b=b: t[b:b + 1], state)
      s_att = model.score_targets(one, "speech", row)
      s_ctc = ctc.sequence_logp(logits[b:b + 1], mask[b:b + 1], row)
      np.testing.assert_allclose(
          score[b, k], 0.3 * s_ctc.numpy()[0] + 0.7 * s_att.numpy()[0],
          rtol=1e-4, atol=1e-3)
  # Nothing after EOS survives in a candidate (the 7 of the second beam).
  for r in ids.reshape(-1, 5).tolist():
    assert 1 in r and not any(r[r.index(1) + 1:])
  assert [6, 6, 6, 1, 0] in ids[1].tolist()


def test_ctc_decode_hparams_are_checked():
  with pytest.raises(decoder_lib.DecodeError, match="ctc_weight"):
    decoder_lib.decode_hparams("ctc_weight=1.5")
  with pytest.raises(decoder_lib.DecodeError, match="ctc_beam"):
    decoder_lib.decode_hparams("ctc_beam=-1")
