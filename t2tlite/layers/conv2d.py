"""2-D convolution steps of the image and class-label modality nets.

The paper builds its image nets from one unit, the ConvStep, and one block
of ConvSteps with a strided residual, the ConvRes (after Xception's entry
flow). Both work on channels-last feature maps [B, H, W, C].
"""
import keras
import tensorflow as tf

# (forward, input gradient, kernel gradient) of a depthwise / a full conv.
_CONV_OPS = {
    True: (tf.raw_ops.DepthwiseConv2dNative,
           tf.raw_ops.DepthwiseConv2dNativeBackpropInput,
           tf.raw_ops.DepthwiseConv2dNativeBackpropFilter),
    False: (tf.raw_ops.Conv2D, tf.raw_ops.Conv2DBackpropInput,
            tf.raw_ops.Conv2DBackpropFilter),
}


def conv2d_same(x, kernel, strides=1, depthwise=False):
  """A "same"-padded 2-D convolution (NHWC, no dilation), depthwise or
  full, whose kernel gradient is computed in float32.

  Why: TensorFlow's oneDNN CPU kernels for the kernel gradient in bfloat16
  (DepthwiseConv2dNativeBackpropFilter, Conv2DBackpropFilter) do not write
  the taps of a strided convolution that only ever read padding: the
  class-label net's 3x3 stride-2 skip on the 1x1 map of a 16x16 image gets,
  for its 8 outer taps, whatever was left in that memory instead of 0
  (garbage, at times inf or NaN: the "rare non-finite image-net gradient"
  of the bfloat16 tests). In float32 the same ops give 0. The forward conv
  and the input gradient stay in x's dtype; only the kernel gradient, one
  small reduction, is summed in float32.
  """
  forward, input_grad, kernel_grad = _CONV_OPS[depthwise]
  strides = [1, strides, strides, 1]

  @tf.custom_gradient
  def conv(x, kernel):
    def grad(dy):
      dx = input_grad(input_sizes=tf.shape(x), filter=kernel,
                      out_backprop=dy, strides=strides, padding="SAME")
      dk = kernel_grad(input=tf.cast(x, tf.float32),
                       filter_sizes=tf.shape(kernel),
                       out_backprop=tf.cast(dy, tf.float32),
                       strides=strides, padding="SAME")
      return dx, tf.cast(dk, kernel.dtype)
    return forward(input=x, filter=kernel, strides=strides,
                   padding="SAME"), grad

  return conv(x, kernel)


class ConvStep2D(keras.layers.Layer):
  """ConvStep_{d,s,f}(W, x) = LN(SepConv_{d,s,f}(W, ReLU(x))) (PAPER, Blocks).

  Depthwise separable convolution, "same" padding, layer normalisation over
  the channels of each position. `separable=False` makes it a full
  convolution and `first_relu=False` drops the ReLU: the image net's first
  steps need both (see ImageModality).
  """

  def __init__(self, filters, kernel_size=3, strides=1, dilation_rate=1,
               separable=True, first_relu=True, **kwargs):
    super().__init__(**kwargs)
    self.filters, self.kernel_size = filters, kernel_size
    self.strides, self.dilation_rate = strides, dilation_rate
    self.separable, self.first_relu = separable, first_relu
    conv = keras.layers.SeparableConv2D if separable else keras.layers.Conv2D
    self.conv = conv(filters, kernel_size, strides=strides,
                     dilation_rate=dilation_rate, padding="same",
                     name="sepconv" if separable else "conv")
    self.norm = keras.layers.LayerNormalization(epsilon=1e-6, name="ln")

  def call(self, x):
    h = tf.nn.relu(x) if self.first_relu else x
    if h.dtype == tf.float32 or self.dilation_rate != 1:
      # (A dilated conv has stride 1, which the bfloat16 bug below needs.)
      return self.norm(self.conv(h))
    return self.norm(self._conv_low_precision(h))

  def _conv_low_precision(self, x):
    """self.conv(x) with every kernel gradient summed in float32: in
    bfloat16 a strided conv's kernel gradient from TensorFlow's own ops can
    be garbage (see conv2d_same). Same variables, same function."""
    conv = self.conv
    if not conv.built:
      conv.build(x.shape)
    if self.separable:
      y = conv2d_same(x, tf.cast(conv.depthwise_kernel, x.dtype),
                      self.strides, depthwise=True)
      y = conv2d_same(y, tf.cast(conv.pointwise_kernel, x.dtype))
    else:
      y = conv2d_same(x, tf.cast(conv.kernel, x.dtype), self.strides)
    return tf.nn.bias_add(y, tf.cast(conv.bias, x.dtype))

  def get_config(self):
    return {**super().get_config(), "filters": self.filters,
            "kernel_size": self.kernel_size, "strides": self.strides,
            "dilation_rate": self.dilation_rate,
            "separable": self.separable, "first_relu": self.first_relu}


class ConvRes2D(keras.layers.Layer):
  """ConvRes(x, F) of the paper's image net; halves height and width.

  ConvRes(x, F) = MaxPool_{s=2, 3x3}(ConvStep_F(3x3, ConvStep_F(3x3, x)))
                  + ConvStep_{s=2, f=F}(1x1, x)
  """

  def __init__(self, filters, **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.step1 = ConvStep2D(filters, 3, name="step1")
    self.step2 = ConvStep2D(filters, 3, name="step2")
    self.pool = keras.layers.MaxPooling2D(3, strides=2, padding="same")
    self.skip = ConvStep2D(filters, 1, strides=2, name="skip")

  def call(self, x):
    return self.pool(self.step2(self.step1(x))) + self.skip(x)

  def get_config(self):
    return {**super().get_config(), "filters": self.filters}


def scaled_filters(paper_filters, hparams, depth_ratio=None):
  """A filter count of the paper, scaled for the model at hand.

  `hparams.image_filters_scale` multiplies every count (set it
  below 1 for quick experiments). With `depth_ratio`, the count is also
  capped at depth_ratio * hidden_size, so that the exit flow's 1536 and
  2048 filters (1.5 and 2 times the paper's depth of 1024) shrink with a
  tiny model instead of dwarfing it; at hidden_size >= 1024 the cap is
  inactive and the paper's numbers stand.
  """
  n = float(paper_filters)
  if depth_ratio is not None:
    n = min(n, depth_ratio * hparams.hidden_size)
  n *= float(hparams.image_filters_scale)
  return max(4, int(round(n)))
