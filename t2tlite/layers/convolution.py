"""Depthwise separable 1-D convolutions and the MultiModel's conv step.

PAPER.md: `ConvStep_{d,s,f}(W, x) = LN(SepConv_{d,s,f}(W, ReLU(x)))`.

Two paddings: "same" (the encoder: a position sees both sides) and "causal"
(the mixer and decoder: padded on the left only, so no position sees the
future). A causal convolution can also run one position at a time: its cache
holds the last (kernel - 1) * dilation inputs, zeros at the start, which is
exactly the left padding of the full pass, so both give the same numbers.
"""
import keras
import tensorflow as tf

PADDINGS = ("same", "causal")


class SeparableConv1D(keras.layers.Layer):
  """A depthwise convolution over time, then a pointwise one (with bias).

  Inputs [B, T, C] -> [B, T, filters]. Stride is 1: the body keeps its
  length (the image modality, which strides, has its own 2-D layers).
  """

  def __init__(self, filters, kernel_size, dilation=1, padding="same",
               **kwargs):
    super().__init__(**kwargs)
    if padding not in PADDINGS:
      raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
    self.filters, self.kernel_size, self.dilation, self.padding = (
        filters, kernel_size, dilation, padding)
    self.pointwise = keras.layers.Dense(filters, name="pointwise")

  @property
  def receptive_field(self):
    """How many past inputs (besides the current one) a causal output sees."""
    return (self.kernel_size - 1) * self.dilation

  def build(self, input_shape):
    channels = input_shape[-1]
    self.depthwise = self.add_weight(
        name="depthwise", shape=(1, self.kernel_size, channels, 1),
        initializer=keras.initializers.VarianceScaling(
            1.0, "fan_in", "truncated_normal"))
    self.pointwise.build(tuple(input_shape[:-1]) + (channels,))

  def _valid_conv(self, x):
    """Depthwise conv without padding: [B, T, C] -> [B, T - rf, C]."""
    y = tf.nn.depthwise_conv2d(
        x[:, None], tf.cast(self.depthwise, x.dtype), strides=[1, 1, 1, 1],
        padding="VALID", dilations=[1, self.dilation])
    return y[:, 0]

  def call(self, x):
    rf = self.receptive_field
    left = rf if self.padding == "causal" else rf // 2
    x = tf.pad(x, [[0, 0], [left, rf - left], [0, 0]])
    return self.pointwise(self._valid_conv(x))

  def step(self, x, window):
    """One causal position: x [B, 1, C], window [B, rf, C] of past inputs.

    Returns (output [B, 1, filters], new window).
    """
    full = tf.concat([window, x], axis=1)  # [B, rf + 1, C]
    return self.pointwise(self._valid_conv(full)), full[:, 1:]

  def get_config(self):
    return {**super().get_config(), "filters": self.filters,
            "kernel_size": self.kernel_size, "dilation": self.dilation,
            "padding": self.padding}


class ConvStep(keras.layers.Layer):
  """LN(SepConv(ReLU(x))), with an optional one-position causal mode.

  call(x, valid=None, cache=None):
    full pass: x [B, T, C]; `valid` [B, T] (True = real) zeroes padded
      positions before the convolution so that, with "same" padding, the
      padding of a batch never leaks into real positions.
    incremental (causal only): x [B, 1, C] and cache [B, rf, C] (from
      `init_cache`); returns (y [B, 1, filters], new cache).
  """

  def __init__(self, filters, kernel_size, dilation=1, padding="same",
               **kwargs):
    super().__init__(**kwargs)
    self.conv = SeparableConv1D(filters, kernel_size, dilation, padding,
                                name="sepconv")
    self.norm = keras.layers.LayerNormalization(epsilon=1e-6, name="ln")

  def init_cache(self, batch, channels, dtype=tf.float32):
    return tf.zeros([batch, self.conv.receptive_field, channels], dtype)

  def build(self, input_shape):
    del input_shape  # sublayers build on their first call

  def call(self, x, valid=None, cache=None):
    h = tf.nn.relu(x)
    if valid is not None:
      h *= tf.cast(valid, h.dtype)[..., None]
    if cache is None:
      return self.norm(self.conv(h))
    if self.conv.padding != "causal":
      raise ValueError("only a causal conv step can decode incrementally")
    y, cache = self.conv.step(h, cache)
    return self.norm(y), cache


def conv_step_flops(batch, length, channels, filters, kernel_size):
  """Multiply-adds x 2 of one SepConv over [B, T, C] (for benchmarks)."""
  positions = batch * length
  return 2 * positions * channels * (kernel_size + filters)
