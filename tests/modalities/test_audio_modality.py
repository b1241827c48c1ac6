"""The "audio" (log-mel) and "audio_waveform" input modality nets."""
import numpy as np
import pytest
import tensorflow as tf

from t2tlite import registry
from t2tlite.hparams_lib import defaults
from t2tlite.modalities import audio as audio_mod


def hparams(**extra):
  return defaults().replace(hidden_size=16, **extra)


def padded(lengths, width=None, seed=0):
  """Random non-zero features, zero-padded to the longest: [B, T(, 80)]."""
  rng = np.random.default_rng(seed)
  out = np.zeros((len(lengths), max(lengths)) + ((width,) if width else ()),
                 np.float32)
  for i, n in enumerate(lengths):
    out[i, :n] = rng.normal(size=(n,) + ((width,) if width else ())) + 0.01
  return out


def test_spectral_shapes_and_mask_follow_the_time_stride():
  mod = audio_mod.AudioSpectralModality(hparams(audio_blocks=3), 0)
  x, mask, context = mod.bottom(padded([37, 20], 80))
  # Two strided blocks: 37 frames -> padded to 40 -> 10; 20 -> 5 real.
  assert x.shape == (2, 10, 16) and mask.shape == (2, 10)
  assert mask.numpy().sum(axis=1).tolist() == [10, 5]
  assert context == {}
  assert np.all(x.numpy()[1, 5:] == 0)


def test_spectral_accepts_a_channel_axis():
  mod = audio_mod.AudioSpectralModality(hparams(audio_blocks=2), 0)
  feats = padded([12], 80)
  a, _, _ = mod.bottom(feats)
  b, _, _ = mod.bottom(feats[..., None])
  np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


@pytest.mark.parametrize("cls,width,lengths,extra", [
    (audio_mod.AudioSpectralModality, 80, [23, 9], dict(audio_blocks=3)),
    (audio_mod.AudioWaveformModality, None, [700, 130],
     dict(audio_blocks=4)),
])
def test_an_utterance_encodes_the_same_alone_and_in_a_batch(cls, width,
                                                              lengths, extra):
  mod = cls(hparams(**extra), 0)
  batch = padded(lengths, width)
  together, mask, _ = mod.bottom(batch)
  short = batch[1:2, :lengths[1]]
  alone, mask_alone, _ = mod.bottom(short)
  n = int(mask_alone.numpy().sum())
  assert int(mask.numpy()[1].sum()) == n
  np.testing.assert_allclose(together.numpy()[1, :n], alone.numpy()[0, :n],
                             atol=1e-4)


def test_waveform_strides_every_block_by_default():
  mod = audio_mod.AudioWaveformModality(hparams(audio_blocks=5), 0)
  x, mask, _ = mod.bottom(padded([1000, 64]))
  assert x.shape == (2, 32, 16)  # 1000 -> 1024 samples / 2^5
  assert mask.numpy().sum(axis=1).tolist() == [32, 2]


def test_filters_are_capped_for_small_models():
  mod = audio_mod.AudioSpectralModality(hparams(audio_blocks=6), 0)
  mod.bottom(padded([8], 80))
  filters = [b.step1.conv.filters for b in mod.blocks]
  assert filters == [2, 4, 8, 16, 16, 16]


def test_gradients_reach_every_block():
  mod = audio_mod.AudioSpectralModality(hparams(audio_blocks=2), 0)
  feats = tf.constant(padded([16, 10], 80))
  with tf.GradientTape() as tape:
    x, _, _ = mod.bottom(feats, training=True)
    loss = tf.reduce_sum(x ** 2)
  grads = tape.gradient(loss, mod.trainable_variables)
  assert grads and all(g is not None for g in grads)


def test_registered_and_input_only():
  assert registry.modalities.get("audio") is audio_mod.AudioSpectralModality
  wav = registry.modalities.get("audio_waveform")(hparams(), 0)
  with pytest.raises(NotImplementedError, match="input modality only"):
    wav.targets_bottom(tf.zeros([1, 3], tf.int32))
  with pytest.raises(NotImplementedError, match="input modality only"):
    wav.top(tf.zeros([1, 3, 16]))
