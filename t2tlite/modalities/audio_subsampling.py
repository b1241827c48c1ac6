"""A conventional speech front end: ESPnet's Conv2dSubsampling over log-mel.

The reference recipe's input net (hparams transformer_speech_small, through
modality_overrides "audio=audio_conv2d_subsampling"). It shares no code
with the MultiModel's audio net (t2tlite/modalities/audio.py), so a
comparison of the two is a comparison of two front ends:

  Conv2D(1 -> C, 3x3, stride 2) + ReLU,
  Conv2D(C -> C, 3x3, stride 2) + ReLU,
  a dense projection of the (F / 4) x C features of each frame to d.

Time and frequency are quartered: 10 ms frames -> 40 ms, 80 bins -> 20.
ESPnet pads "valid"; this pads "same" and re-zeroes padded frames after
each convolution, with time padded to a multiple of 4 first, so that an
utterance gets the same encoding alone as in any batch.

Settings: audio_stem_filters (C; 0 means 32) and audio_mel_bins.
"""
import keras
import tensorflow as tf

from t2tlite import modality
from t2tlite import registry

STRIDE = 4  # two convolutions of stride 2


@registry.register_modality("audio_conv2d_subsampling")
class Conv2dSubsampling(modality.Modality):
  """Log-mel [B, T, F] -> ([B, ceil(T / 4), d], mask)."""

  def __init__(self, hparams, vocab_size, **kwargs):
    super().__init__(hparams, vocab_size, **kwargs)
    filters = hparams.audio_stem_filters or 32
    self.convs = [keras.layers.Conv2D(filters, 3, strides=2, padding="same",
                                      activation="relu", name=f"conv_{i}")
                  for i in range(2)]
    self.project = keras.layers.Dense(hparams.hidden_size, name="project")

  def example_inputs(self):
    return tf.ones([1, 4 * STRIDE, self.hparams.audio_mel_bins], tf.float32)

  def _input(self, x):
    """[B, T, F] -> ([B, T', F, 1], mask [B, T']) with T' a multiple of 4.
    A frame that is all zero is padding (t2tlite/data/audio.py)."""
    x = tf.convert_to_tensor(x)
    shape = tf.shape(x)
    x = tf.reshape(x, [shape[0], shape[1], self.hparams.audio_mel_bins])
    x = tf.cast(x, self.compute_dtype)
    mask = tf.reduce_any(tf.not_equal(x, 0), axis=2)
    pad = (-shape[1]) % STRIDE
    x = tf.pad(x, [[0, 0], [0, pad], [0, 0]])[..., None]
    return x, tf.pad(mask, [[0, 0], [0, pad]])

  def output_mask(self, x):
    """The mask `bottom` returns, without the convolutions (CTC lengths)."""
    return self._input(x)[1][:, ::STRIDE]

  def bottom(self, x, training=False):
    x, mask = self._input(x)
    for conv in self.convs:
      mask = mask[:, ::2]
      x = conv(x) * tf.cast(mask, x.dtype)[:, :, None, None]
    shape = tf.shape(x)
    x = tf.reshape(x, [shape[0], shape[1], x.shape[2] * x.shape[3]])
    x = self.project(x)
    return x * tf.cast(mask, x.dtype)[:, :, None], mask, {}

  def targets_bottom(self, ids, training=False):
    raise NotImplementedError(
        "'audio_conv2d_subsampling' is an input modality only")

  def top(self, body_output, training=False, context=None):
    raise NotImplementedError(
        "'audio_conv2d_subsampling' is an input modality only")
