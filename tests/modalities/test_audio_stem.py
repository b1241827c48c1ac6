"""The audio stem (issue 34 §1): block 0 must see the spectrum, not its sign.

On a one-channel map, block 0's separable convolution and the layer norm
over its filters return a fixed vector times sign(s) at every position: the
outputs have rank 1, whatever the filter count. With the stem
(audio_stem_filters > 0) they span the filters, and the conventional front
end (audio_conv2d_subsampling) tells a quiet input from a loud one.
"""
import keras
import numpy as np
import pytest
import tensorflow as tf

from t2tlite import modality
from t2tlite.hparams_lib import defaults
from t2tlite.modalities import audio as audio_mod
from t2tlite.modalities import audio_subsampling


def hparams(**extra):
  return defaults().replace(hidden_size=16, audio_blocks=3,
                            audio_time_strides=2, **extra)


def block0_step1(mod, x):
  """Block 0's first ConvStep outputs at the real positions, [N, C]: what
  bottom computes there, after the stem if there is one."""
  x4, mask = mod._padded(mod.to_4d(x))  # pylint: disable=protected-access
  if mod.stem is not None:
    x4 = mod.stem(x4) * tf.cast(mask, x4.dtype)[:, :, None, None]
  out = mod.blocks[0].step1(x4, mask).numpy()
  return out[mask.numpy()].reshape(-1, out.shape[-1])


def relative_change(a, b):
  return float(np.linalg.norm(a - b) / np.linalg.norm(a))


def rank_ratio(rows):
  """The second singular value over the first: 0 for rows that are all one
  vector times a scalar."""
  s = np.linalg.svd(rows, compute_uv=False)
  return float(s[1] / s[0])


def spectrum(seed=0, frames=48):
  """A log-mel-like map: smooth in frequency, offset from zero."""
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(1, frames, 80)).astype(np.float32)
  return np.cumsum(x, axis=2) / 4.0 + 0.5


def waveform(seed=0, samples=256):
  rng = np.random.default_rng(seed)
  return np.sin(np.arange(samples) / 7.0)[None].astype(np.float32) + \
      0.3 * rng.normal(size=(1, samples)).astype(np.float32)


@pytest.mark.parametrize("cls,make", [
    (audio_mod.AudioSpectralModality, spectrum),
    (audio_mod.AudioWaveformModality, waveform),
])
def test_block0_sees_more_than_the_sign_of_the_input_with_the_stem(cls, make):
  x = make()
  # 16 filters in block 0: the legacy net's outputs are still one vector
  # times sign(s) at every position (rank 1), whatever the filter count.
  legacy = cls(hparams(audio_min_filters=16), 0)
  stem = cls(hparams(audio_min_filters=16, audio_stem_filters=8), 0)
  assert rank_ratio(block0_step1(legacy, x)) < 1e-2
  assert rank_ratio(block0_step1(stem, x)) > 0.1


def test_the_stem_keeps_padding_out():
  keras.utils.set_random_seed(0)
  mod = audio_mod.AudioSpectralModality(
      hparams(audio_stem_filters=8, audio_min_filters=16), 0)
  x = np.zeros((2, 40, 80), np.float32)
  x[0] = spectrum(1, 40)[0]
  x[1, :21] = spectrum(2, 21)[0]
  both, mask, _ = mod.bottom(x)
  alone, _, _ = mod.bottom(x[1:, :21])
  n = int(mask.numpy()[1].sum())
  np.testing.assert_allclose(both.numpy()[1, :n], alone.numpy()[0, :n],
                             atol=1e-4)
  assert np.all(both.numpy()[1, n:] == 0)


def test_conv2d_subsampling_quarters_time_and_frequency():
  hp = hparams(modality_overrides="audio=audio_conv2d_subsampling",
               audio_stem_filters=4)
  mod = modality.create("audio", hp, 0)
  assert isinstance(mod, audio_subsampling.Conv2dSubsampling)
  x = np.zeros((2, 37, 80), np.float32)
  x[0] = spectrum(3, 37)[0]
  x[1, :10] = spectrum(4, 10)[0]
  out, mask, _ = mod.bottom(x)
  assert out.shape == (2, 10, 16)
  assert mask.numpy().sum(axis=1).tolist() == [10, 3]
  np.testing.assert_array_equal(mask.numpy(), mod.output_mask(x).numpy())
  # The conv weights: a full 3x3 kernel from one channel to C (not a
  # separable one) and a projection of 20 bins x C.
  assert mod.convs[0].kernel.shape == (3, 3, 1, 4)
  assert mod.project.kernel.shape == (20 * 4, 16)
  alone, _, _ = mod.bottom(x[1:, :10])
  np.testing.assert_allclose(out.numpy()[1, :3], alone.numpy()[0, :3],
                             atol=1e-5)
  small, _, _ = mod.bottom(x[:1] * 10)
  large, _, _ = mod.bottom(x[:1] * 100)
  assert relative_change(small.numpy(), large.numpy()) > 0.05


def test_a_bad_modality_override_is_an_error_naming_it():
  from t2tlite import registry
  with pytest.raises(registry.RegistryError, match="audio_conv2d"):
    modality.create("audio", hparams(
        modality_overrides="audio=audio_conv2d"), 0)
  with pytest.raises(registry.RegistryError, match="from=to"):
    modality.create("audio", hparams(modality_overrides="audio"), 0)
