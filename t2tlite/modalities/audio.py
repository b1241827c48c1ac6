"""Audio input nets: a log-mel spectrogram or a raw waveform -> [B, T', d].

Paper, "Modality nets": audio goes through a stack of 8 ConvRes blocks, the
i-th with 2^(i+1) filters in the released code; the spectral variant strides
along time only, never along frequency. ConvRes is the image modality's:

  ConvStep_{d,s,f}(W, x) = LN(SepConv_{d,s,f}(W, ReLU(x)))
  ConvRes(x, F) = MaxPool_{2, 3x3}(ConvStep_F(3x3, ConvStep_F(3x3, x)))
                  + ConvStep_{s=2}(1x1, x)

Settings (hparams keys; every set has them, from hparams_lib.defaults):
  audio_blocks         ConvRes blocks (default 8, the paper's).
  audio_time_strides   how many of the first blocks halve time: "audio"
                       default 2 (10 ms frames -> 40 ms), "audio_waveform"
                       default audio_blocks (8: 256 samples, 16 ms).
  audio_max_filters    cap on 2^(i+1) (default hidden_size, so tiny
                       hparams get tiny blocks).
  audio_min_filters    floor on 2^(i+1) (default 0: none). The layer norm
                       of each ConvStep normalises over the filters alone,
                       so the paper's 2 filters of the first block leave
                       it only the sign of their difference (and no
                       gradient); a floor of 16-32 keeps the spectrum.
  audio_freq_strides   how many of the first blocks also halve frequency
                       (default 0, the paper's: "audio" only). Each one
                       halves the bins x filters the dense projection
                       flattens.
  audio_mel_bins       feature bins of "audio" inputs (default 80).
  audio_stem_filters   > 0: a full convolution of the one-channel input to
                       this many channels, then a ReLU, before the ConvRes
                       stack (3x3 on log-mel, 3x1 on waveforms). 0 (the
                       default, how runs written before it load): none, so
                       block 0 gets the one-channel map itself.

The stem. On a one-channel input, block 0's separable convolution yields
y_c = w_c * s + b_c from one filtered value s per position, and the layer
norm over c then returns a fixed vector times sign(s) (with b = 0, as at
initialisation), whatever the filter count; its skip path does the same
with s = x. The net would start from a 1-bit spectrogram, and the norm's
gradient explodes where s is near 0. A full convolution to C channels
(as ESPnet's Conv2dSubsampling and the image modality start) gives every
layer norm a rank-C input instead.

Padding. Inputs are padded with exact zeros by the batcher; a frame (or
sample) that is all zero is padding (the problems' features never are: see
t2tlite.data.audio.pcm16_to_waveform). The mask is taken at full resolution and
subsampled with each time stride. Inside the stack padded positions are
re-zeroed after each step and kept out of the max-pool, and time is padded
to a multiple of the total stride, so an utterance gets the same encoding
alone as in any batch. That masking, the time-only strides and the
optional first ReLU are why this file has its own ConvStep and ConvRes
rather than t2tlite.layers.conv2d's, which images (never padded) use.
"""
import keras
import tensorflow as tf

from t2tlite import modality
from t2tlite import registry

_NEG = -1e9


class ConvStep(keras.layers.Layer):
  """LN(SepConv(ReLU(x))) on [B, T, F, C]; positions outside `mask` -> 0.

  Strides are for 1x1 kernels only (the ConvRes skip), and are taken by
  subsampling the input, which for a 1x1 kernel is the same convolution:
  TensorFlow's depthwise kernels do not all take unequal strides (Eigen's
  rejects them; oneDNN's crashed on some shapes with strides (2, 1) after
  (2, 2)).
  """

  def __init__(self, filters, kernel, strides=(1, 1), relu=True, **kwargs):
    super().__init__(**kwargs)
    if tuple(strides) != (1, 1) and tuple(kernel) != (1, 1):
      raise ValueError(f"ConvStep strides {strides} need a 1x1 kernel, not "
                       f"{kernel}")
    self.filters = filters
    self.kernel = tuple(kernel)
    self.relu = relu
    self.strides = tuple(strides)
    self.conv = keras.layers.SeparableConv2D(filters, kernel, padding="same",
                                             name="sepconv")
    self.norm = keras.layers.LayerNormalization(epsilon=1e-6, name="ln")

  def call(self, x, mask):
    if self.strides != (1, 1):
      x = x[:, ::self.strides[0], ::self.strides[1], :]
    y = self.norm(self.conv(tf.nn.relu(x) if self.relu else x))
    return y * tf.cast(mask, y.dtype)[:, :, None, None]

  def get_config(self):
    return {**super().get_config(), "filters": self.filters,
            "kernel": self.kernel, "strides": self.strides,
            "relu": self.relu}


class ConvRes(keras.layers.Layer):
  """The paper's ConvRes, striding along time only (or not at all)."""

  def __init__(self, filters, kernel, stride, first_relu=True, freq_stride=1,
               **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.first_relu = first_relu
    self.stride = stride
    self.freq_stride = freq_stride
    self.step1 = ConvStep(filters, kernel, relu=first_relu, name="step1")
    self.step2 = ConvStep(filters, kernel, name="step2")
    self.skip = ConvStep(filters, (1, 1), strides=(stride, freq_stride),
                         relu=first_relu, name="skip")
    self.kernel = kernel

  def call(self, x, mask):
    """x [B, T, F, C], mask [B, T] -> ([B, T/stride, F/freq_stride,
    filters], mask)."""
    out_mask = mask[:, ::self.stride]
    h = self.step2(self.step1(x, mask), mask)
    # Padded positions must never win the max.
    h = tf.where(mask[:, :, None, None], h, tf.cast(_NEG, h.dtype))
    h = tf.nn.max_pool2d(h, self.kernel, (self.stride, self.freq_stride),
                         "SAME")
    h = tf.where(out_mask[:, :, None, None], h, tf.zeros_like(h))
    return h + self.skip(x, out_mask), out_mask

  def get_config(self):
    return {**super().get_config(), "filters": self.filters,
            "kernel": tuple(self.kernel), "stride": self.stride,
            "first_relu": self.first_relu, "freq_stride": self.freq_stride}


class _AudioModality(modality.Modality):
  """Shared by both audio inputs; subclasses say how input becomes 4-D."""

  freq_kernel = 3
  default_time_strides = None  # None: every block strides

  def __init__(self, hparams, vocab_size, **kwargs):
    super().__init__(hparams, vocab_size, **kwargs)
    hp = hparams
    num_blocks = hp.audio_blocks
    strides = (hp.audio_time_strides or self.default_time_strides or
               num_blocks)
    self.num_strides = min(strides, num_blocks)
    cap = hp.audio_max_filters or hp.hidden_size
    floor = hp.audio_min_filters
    freq_strides = hp.audio_freq_strides if self.freq_kernel > 1 else 0
    self.blocks = [
        ConvRes(min(max(2 ** (i + 1), floor), cap), (3, self.freq_kernel),
                stride=2 if i < self.num_strides else 1,
                # Normalised features and waveforms are signed: a ReLU
                # on them would throw half of the input away.
                first_relu=i > 0,
                freq_stride=2 if i < freq_strides else 1,
                name=f"conv_res_{i}")
        for i in range(num_blocks)]
    self.stem = None
    if hp.audio_stem_filters:
      self.stem = keras.layers.Conv2D(
          hp.audio_stem_filters, (3, self.freq_kernel), padding="same",
          activation="relu", name="stem")
    self.project = keras.layers.Dense(hp.hidden_size, name="project")

  def to_4d(self, x):
    raise NotImplementedError

  def _padded(self, x):
    """[B, T, F, 1] -> (x, mask [B, T]) with T padded to the total stride."""
    mask = tf.reduce_any(tf.not_equal(x, 0), axis=[2, 3])
    total = 2 ** self.num_strides
    pad = (-tf.shape(x)[1]) % total
    x = tf.pad(x, [[0, 0], [0, pad], [0, 0], [0, 0]])
    mask = tf.pad(mask, [[0, 0], [0, pad]])
    return x, mask

  def output_mask(self, x):
    """Inputs -> the mask [B, T'] that `bottom` returns, without the convs
    (the CTC loss's logit lengths, t2tlite/layers/ctc.py)."""
    _, mask = self._padded(self.to_4d(x))
    for block in self.blocks:
      mask = mask[:, ::block.stride]
    return mask

  def bottom(self, x, training=False):
    x, mask = self._padded(self.to_4d(x))              # [B, T, F, 1]
    if self.stem is not None:                          # [B, T, F, C]
      x = self.stem(x) * tf.cast(mask, x.dtype)[:, :, None, None]
    for block in self.blocks:
      x, mask = block(x, mask)                         # [B, T', F, C]
    shape = tf.shape(x)
    x = tf.reshape(x, [shape[0], shape[1], x.shape[2] * x.shape[3]])
    x = self.project(x)                                # [B, T', d]
    return x * tf.cast(mask, x.dtype)[:, :, None], mask, {}

  def targets_bottom(self, ids, training=False):
    raise NotImplementedError(
        f"'{self._registered_name}' is an input modality only: no problem "
        "can have audio targets")

  def top(self, body_output, training=False, context=None):
    raise NotImplementedError(
        f"'{self._registered_name}' is an input modality only: no problem "
        "can have audio targets")


@registry.register_modality("audio")
class AudioSpectralModality(_AudioModality):
  """Log-mel features [B, T, 80] (or [B, T, 80, 1]), 10 ms frames."""

  freq_kernel = 3
  default_time_strides = 2

  def example_inputs(self):
    bins = self.hparams.audio_mel_bins
    return tf.ones([1, 4 * 2 ** self.num_strides, bins], tf.float32)

  def to_4d(self, x):
    # The trainer traces with every dimension unknown; the bins must be
    # static for the dense projection, so restate them.
    x = tf.convert_to_tensor(x)
    shape = tf.shape(x)
    bins = self.hparams.audio_mel_bins
    x = tf.reshape(x, [shape[0], shape[1], bins, 1])
    return tf.cast(x, self.compute_dtype)


@registry.register_modality("audio_waveform")
class AudioWaveformModality(_AudioModality):
  """Raw 16 kHz samples [B, N] in [-1, 1]; 1-D convolutions along time."""

  freq_kernel = 1

  def example_inputs(self):
    return tf.fill([1, 160 * 2 ** self.num_strides], 0.1)

  def to_4d(self, x):
    return tf.cast(tf.convert_to_tensor(x), self.compute_dtype)[:, :, None,
                                                                 None]
