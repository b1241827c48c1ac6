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

from t2tlite.layers import common

PADDINGS = ("same", "causal")


def _grad_scope():
  """A name scope for a custom gradient's ops inside the forward op's scope
  (they are built later, at the top level): profiles then attribute them to
  their layer."""
  scope = tf.get_current_name_scope()
  return f"{scope}/grad/" if scope else "grad"


def _time_padding(left, right):
  """Explicit padding of the time axis of a [B, 1, T, C] conv input (the
  conv op pads while it reads: 1.5-2x faster than tf.pad and a valid conv,
  and no padded copy to keep for the gradient)."""
  return [[0, 0], [0, 0], [left, right], [0, 0]]


def _depthwise(x, w, dilation, left, right):
  """x [B, T, C] zero-padded by left + right = (k - 1) * d positions,
  w [k, C] -> [B, T, C]: y_t = sum_j w_j x_{t - left + j d}."""
  y = tf.nn.depthwise_conv2d(tf.expand_dims(x, 1), w[None, :, :, None],
                             strides=[1, 1, 1, 1],
                             padding=_time_padding(left, right),
                             dilations=[1, dilation])
  return tf.squeeze(y, 1)


def _kernel_grad(x, dy, k, dilation, left, right):
  """dw_jc = sum_bt x_b(t - left + j d)c dy_btc as one depthwise conv: x a
  1 x B image, dy a B x T filter summing over the batch, stride d picking
  the taps (a 15-tap loop of multiply-and-sum was 4x slower; oneDNN's
  kernel gradient op ~10x). Products summed in float32."""
  taps = tf.nn.depthwise_conv2d(
      tf.cast(x, tf.float32)[None], tf.cast(dy, tf.float32)[..., None],
      strides=[1, dilation, dilation, 1],
      padding=_time_padding(left, right))  # [1, 1, k, C]
  return tf.reshape(taps, [k, -1])


def depthwise_conv(x, w, dilation, left, right):
  """`_depthwise` with its own gradient.

  TensorFlow's gradient kernels for it (oneDNN backprop-filter and
  backprop-input, and the slice undoing the padding) took 10-30x the
  forward conv's time at the MultiModel's shapes, a quarter of a
  multimodel_base train step. Here the input's gradient is the same
  forward conv over the output gradient padded the other way round with
  the kernel reversed, and the kernel's gradient another depthwise conv.
  """
  k = w.shape[0]
  scope = _grad_scope()

  @tf.custom_gradient
  def conv(x, w):
    def grad(dy):
      with tf.name_scope(scope):
        dx = _depthwise(dy, tf.reverse(w, [0]), dilation, right, left)
        dw = _kernel_grad(x, dy, k, dilation, left, right)
        return dx, tf.cast(dw, w.dtype)
    return _depthwise(x, w, dilation, left, right), grad

  return conv(x, w)


def layer_norm(x, norm):
  """What a Keras LayerNormalization `norm` (last axis) computes, with a
  hand-written gradient: Keras' composite graph (broadcast scale and shift
  tensors, their reductions) took ~1.5x as long forward + backward, and
  the conv steps' 72 layer norms were ~15% of a multimodel_base train step.
  Statistics in float32, as Keras keeps them; output in x's dtype.
  """
  if not norm.built:
    norm.build(x.shape)
  axes = list(range(len(x.shape) - 1))
  scope = _grad_scope()

  @tf.custom_gradient
  def normalize(x, gamma, beta):
    mean = tf.reduce_mean(x, -1, keepdims=True)
    centred = x - mean
    inv = tf.math.rsqrt(tf.reduce_mean(tf.square(centred), -1, keepdims=True)
                        + norm.epsilon)
    xhat = centred * inv

    def grad(dy):
      with tf.name_scope(scope):
        g = dy * gamma
        dx = inv * (g - tf.reduce_mean(g, -1, keepdims=True) -
                    xhat * tf.reduce_mean(g * xhat, -1, keepdims=True))
        return dx, tf.reduce_sum(dy * xhat, axes), tf.reduce_sum(dy, axes)
    return xhat * gamma + beta, grad

  y = normalize(tf.cast(x, tf.float32), tf.cast(norm.gamma, tf.float32),
                tf.cast(norm.beta, tf.float32))
  return tf.cast(y, x.dtype)


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
    self.pointwise = common.Dense(filters, name="pointwise")

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

  def _kernel(self, dtype):
    """The depthwise kernel as [kernel_size, C]."""
    return tf.reshape(tf.cast(self.depthwise, dtype), [self.kernel_size, -1])

  def call(self, x):
    rf = self.receptive_field
    left = rf if self.padding == "causal" else rf // 2
    return self.pointwise(depthwise_conv(x, self._kernel(x.dtype),
                                         self.dilation, left, rf - left))

  def step(self, x, window):
    """One causal position: x [B, 1, C], window [B, rf, C] of past inputs.

    Returns (output [B, 1, filters], new window).
    """
    full = tf.concat([window, x], axis=1)  # [B, rf + 1, C]
    # The kernel's taps, then a weighted sum: the same products as the
    # depthwise conv of the full pass, but for one output the conv op (with
    # space-to-batch around it when dilated) cost several times more.
    taps = full
    if self.dilation > 1:
      taps = tf.gather(
          full, list(range(0, self.receptive_field + 1, self.dilation)),
          axis=1)
    y = tf.reduce_sum(taps * self._kernel(x.dtype), axis=1, keepdims=True)
    return self.pointwise(y), full[:, 1:]

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
    self.filters, self.kernel_size = filters, kernel_size
    self.dilation, self.padding = dilation, padding
    self.conv = SeparableConv1D(filters, kernel_size, dilation, padding,
                                name="sepconv")
    self.norm = keras.layers.LayerNormalization(epsilon=1e-6, name="ln")

  def get_config(self):
    return {**super().get_config(), "filters": self.filters,
            "kernel_size": self.kernel_size, "dilation": self.dilation,
            "padding": self.padding}

  def init_cache(self, batch, channels, dtype=tf.float32):
    return tf.zeros([batch, self.conv.receptive_field, channels], dtype)

  def build(self, input_shape):
    del input_shape  # sublayers build on their first call

  def call(self, x, valid=None, cache=None):
    h = tf.nn.relu(x)
    if valid is not None:
      h *= tf.cast(valid, h.dtype)[..., None]
    if cache is None:
      return layer_norm(self.conv(h), self.norm)
    if self.conv.padding != "causal":
      raise ValueError("only a causal conv step can decode incrementally")
    y, cache = self.conv.step(h, cache)
    return layer_norm(y, self.norm), cache
