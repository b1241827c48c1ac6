"""Joint CTC-attention: labels and lengths, the loss against a brute-force
sum over alignments, infeasible utterances, the model hook (ctc_weight 0
changes nothing; > 0 adds one head and a loss that trains)."""

import keras
import numpy as np
import tensorflow as tf

from t2tlite import hparams_lib
from t2tlite import model as model_lib
from t2tlite import registry
from t2tlite.hparams import multimodel as _multimodel_hparams  # noqa: F401
from t2tlite.hparams_lib import HParams
from t2tlite.layers import ctc
from t2tlite.models.multimodel import body
from t2tlite.data.problem import ProblemSpec

from conftest import ctc_brute_force_nll

VOCAB = 12
AUDIO_SPEC = ProblemSpec("speech", "audio", 0, None, "text", VOCAB, "v",
                         "to_transcript_en", 3)
TEXT_SPEC = ProblemSpec("mt", "text", VOCAB, "v", "text", VOCAB, "v",
                        "to_de", 2)


# --- labels, lengths, masks --------------------------------------------------
def test_labels_drop_eos_and_padding_and_count_repeats():
  targets = tf.constant([[5, 6, 6, 1, 0], [7, 1, 0, 0, 0], [1, 0, 0, 0, 0],
                         [4, 4, 4, 9, 1]])
  labels, lengths, repeats = ctc.labels_and_lengths(targets)
  assert labels.numpy().tolist() == [[5, 6, 6, 0, 0], [7, 0, 0, 0, 0],
                                     [0, 0, 0, 0, 0], [4, 4, 4, 9, 0]]
  assert lengths.numpy().tolist() == [3, 1, 0, 4]
  assert repeats.numpy().tolist() == [1, 0, 0, 2]


def test_loss_is_the_sum_over_alignments_and_ignores_padded_frames():
  rng = np.random.default_rng(0)
  v = 4
  logits = rng.normal(size=(2, 6, v)).astype(np.float32)
  # Example 0: 5 real frames; example 1: 4, with a hole (a masked frame
  # inside the utterance still counts as a frame).
  mask = np.array([[1, 1, 1, 1, 1, 0], [1, 0, 1, 1, 0, 0]], bool)
  targets = np.array([[2, 3, 3, 1], [3, 2, 1, 0]])
  loss, labels = ctc.ctc_loss(tf.constant(logits), tf.constant(mask),
                              tf.constant(targets))
  want = [ctc_brute_force_nll(logits[0, :5], [2, 3, 3]),
          ctc_brute_force_nll(logits[1, :4], [3, 2])]
  np.testing.assert_allclose(loss.numpy(), want, rtol=1e-4)
  assert labels.numpy().tolist() == [3.0, 2.0]
  # Whatever the padded frames hold, the loss is the same.
  noisy = logits.copy()
  noisy[0, 5] += 50.0
  noisy[1, 4:] -= 50.0
  again, _ = ctc.ctc_loss(tf.constant(noisy), tf.constant(mask),
                          tf.constant(targets))
  np.testing.assert_allclose(again.numpy(), want, rtol=1e-4)


def test_an_utterance_too_short_for_its_labels_adds_nothing():
  logits = tf.Variable(np.random.default_rng(1).normal(
      size=(2, 3, 5)).astype(np.float32))
  mask = tf.ones([2, 3], tf.bool)
  # [2, 2, 3] needs 4 frames (a blank between the twos); [4, 3] needs 2.
  targets = tf.constant([[2, 2, 3, 1], [4, 3, 1, 0]])
  with tf.GradientTape() as tape:
    loss, labels = ctc.ctc_loss(logits, mask, targets)
    total = tf.reduce_sum(loss)
  grad = tape.gradient(total, logits).numpy()
  assert loss.numpy()[0] == 0.0 and labels.numpy().tolist() == [0.0, 2.0]
  assert np.isfinite(loss.numpy()[1]) and loss.numpy()[1] > 0
  assert np.all(np.isfinite(grad))
  assert np.all(grad[0] == 0) and np.any(grad[1] != 0)


# --- the model hook ----------------------------------------------------------
def _model(overrides, specs=(AUDIO_SPEC,), drop=()):
  hp = registry.hparams("multimodel_tiny").override(
      "audio_blocks=2" + ("," + overrides if overrides else ""))
  if drop:  # a run config written before the key existed, read back
    hp, filled = hparams_lib.fill_defaults(
        HParams(**{k: v for k, v in hp.values().items() if k not in drop}))
    assert filled == sorted(drop)
  keras.utils.set_random_seed(3)
  return body.MultiModel(hp, list(specs))


def _audio_features(lengths=(40, 27), tokens=((3, 4, 5, 1), (6, 7, 1, 0))):
  rng = np.random.default_rng(2)
  x = np.zeros((len(lengths), max(lengths), 80), np.float32)
  for i, n in enumerate(lengths):
    x[i, :n] = rng.normal(size=(n, 80)) + 0.01
  return {"inputs": tf.constant(x), "targets": tf.constant(tokens, tf.int32)}


def test_weight_zero_builds_nothing_and_changes_nothing():
  features = _audio_features()
  plain = _model("", drop=("ctc_weight",))
  # (_model checks the old run's config read back with ctc_weight filled.)
  assert plain.hparams.ctc_weight == 0.0
  zero = _model("ctc_weight=0.0")
  logits_plain, aux_plain = plain(features, problem="speech")
  zero(features, problem="speech")
  # The same variables under the same keys: a run written before
  # ctc_weight existed restores into it exactly, and computes the same.
  plain_vars = model_lib.structured_variables(plain)
  zero_vars = model_lib.structured_variables(zero)
  assert sorted(zero_vars) == sorted(plain_vars)
  for key, var in zero_vars.items():
    var.assign(plain_vars[key])
  logits_zero, aux_zero = zero(features, problem="speech")
  assert not zero.ctc_heads and ctc.AUX_NAME not in aux_zero
  assert sorted(aux_zero) == sorted(aux_plain)
  np.testing.assert_allclose(logits_zero.numpy(), logits_plain.numpy(),
                             atol=1e-6)
  on = _model("ctc_weight=0.3")
  on(features, problem="speech")
  extra = len(on.trainable_variables) - len(zero.trainable_variables)
  head = on.ctc_heads[ctc.head_key(AUDIO_SPEC)]
  assert extra == len(head.trainable_variables) == 2  # kernel and bias
  assert head.project.kernel.shape == (32, VOCAB)


def test_hparams_sets_default_to_no_ctc():
  for name in ("multimodel_tiny", "multimodel_small", "multimodel_base",
               "multimodel_paper"):
    assert registry.hparams(name).ctc_weight == 0.0
  speech = registry.hparams("multimodel_speech")
  small = registry.hparams("multimodel_small")
  changed = {k for k, v in speech.values().items()
             if small.values().get(k) != v}
  assert changed == {"ctc_weight", "audio_min_filters", "audio_freq_strides",
                     "audio_time_strides", "learning_rate"}
  assert speech.ctc_weight == 0.3


def test_only_audio_problems_get_a_head_and_a_loss():
  m = _model("ctc_weight=0.5", specs=(AUDIO_SPEC, TEXT_SPEC))
  assert list(m.ctc_heads) == [ctc.head_key(AUDIO_SPEC)]
  _, aux = m({"inputs": tf.constant([[3, 4, 5]]),
              "targets": tf.constant([[3, 4, 1]])}, problem="mt")
  assert ctc.AUX_NAME not in aux
  _, aux = m(_audio_features(), problem="speech")
  assert np.isfinite(aux[ctc.AUX_NAME].numpy())


def test_the_aux_loss_scales_with_the_weight_and_uses_the_modality_mask():
  features = _audio_features()
  half = _model("ctc_weight=0.5")
  _, aux_half = half(features, problem="speech")
  full = _model("ctc_weight=1.0")
  _, aux_full = full(features, problem="speech")
  assert float(aux_full[ctc.AUX_NAME]) > 0
  np.testing.assert_allclose(2 * aux_half[ctc.AUX_NAME].numpy(),
                             aux_full[ctc.AUX_NAME].numpy(), rtol=1e-5)
  mod = full.input_modality("speech")
  _, bottom_mask, _ = mod.bottom(features["inputs"])
  out_mask = mod.output_mask(features["inputs"])
  # 40 and 27 frames, two time strides: 10 and 7 encoder frames.
  assert out_mask.numpy().sum(axis=1).tolist() == [10, 7]
  np.testing.assert_array_equal(out_mask.numpy(), bottom_mask.numpy())


def test_ctc_loss_is_finite_and_falls_when_trained():
  m = _model("ctc_weight=1.0")
  features = _audio_features()
  opt = keras.optimizers.Adam(3e-3)
  m(features, problem="speech")
  head_vars = m.ctc_heads[ctc.head_key(AUDIO_SPEC)].trainable_variables
  losses = []
  for _ in range(25):
    with tf.GradientTape() as tape:
      _, aux = m(features, problem="speech", training=True)
      loss = aux[ctc.AUX_NAME]
    grads = tape.gradient(loss, m.trainable_variables)
    pairs = [(g, v) for g, v in zip(grads, m.trainable_variables)
             if g is not None]
    assert all(any(v is w for _, w in pairs) for v in head_vars)
    opt.apply_gradients(pairs)
    losses.append(float(loss))
  assert all(np.isfinite(losses))
  assert losses[-1] < 0.5 * losses[0]


def test_train_step_adds_the_ctc_loss_to_the_total():
  from t2tlite.train import train_steps
  # A dense FFN instead of the MoE: no balancing losses, a shorter trace.
  m = _model("ctc_weight=0.3,use_moe=false")
  features = _audio_features()
  m(features, problem="speech")
  opt = keras.optimizers.Adam(0.0)
  sig = {"inputs": tf.TensorSpec([None, None, 80], tf.float32),
         "targets": tf.TensorSpec([None, None], tf.int32)}
  out = train_steps.train_step(m, opt, m.hparams, "speech", sig)(features)
  assert float(out[ctc.AUX_NAME]) > 0
  np.testing.assert_allclose(float(out["total_loss"]),
                             float(out["loss"]) + float(out[ctc.AUX_NAME]),
                             rtol=1e-5)
