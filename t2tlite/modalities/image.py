"""Images in: an entry flow of strided convolutions, like Xception's.

Problems hand the modality pixel values 0..255 (uint8, or float in that
range) of shape [B, H, W, C]; the modality maps them to [-1, 1], as the
Xception family's preprocessing did, and returns the final feature map
flattened row by row into a sequence of h * w vectors of depth d.
"""
import tensorflow as tf

from t2tlite import modality
from t2tlite import registry
from t2tlite.layers import conv2d


def normalize_pixels(images):
  """0..255 -> [-1, 1] (float32)."""
  return tf.cast(images, tf.float32) / 127.5 - 1.0


def to_rgb(images):
  """Grey images become RGB: one image net serves every image problem
  (Fashion-MNIST's grey and Tux Paint's colour alike), as the paper shared
  one net per modality."""
  channels = tf.shape(images)[-1]
  rgb = tf.cond(tf.equal(channels, 1),
                lambda: tf.tile(images, [1, 1, 1, 3]),
                lambda: images[..., :3])
  return tf.ensure_shape(rgb, [None, None, None, 3])


def flatten_2d(x):
  """[B, h, w, d] -> ([B, h * w, d], (h, w)); h and w may be tensors."""
  shape = tf.shape(x)
  h = x.shape[1] if x.shape[1] is not None else shape[1]
  w = x.shape[2] if x.shape[2] is not None else shape[2]
  return tf.reshape(x, [shape[0], h * w, x.shape[-1]]), (h, w)


@registry.register_modality("image")
class ImageModality(modality.Modality):
  """The paper's image modality net (PAPER, "Modality nets", Image).

  h1 = ConvStep_{s=2, f=32}(3x3, x), h2 = ConvStep_{f=64}(3x3, h1),
  r1 = ConvRes(h2, 128), r2 = ConvRes(r1, 256), out = ConvRes(r2, d).
  Every stride halves the image: H x W becomes ceil(H / 16) x ceil(W / 16).
  Filter counts follow `conv2d.scaled_filters` (hparam image_filters_scale).

  Where this departs from the paper's formula, it follows Xception and the
  released T2T code: h1 and h2 are full convolutions, not separable ones (a
  separable convolution of a 1- or 3-channel image has only 1 or 3 spatial
  filters, and a net built that way did not learn 8x8 digits at all), and
  h1 has no ReLU in front (ReLU of pixels in [-1, 1] would erase the
  darker half of every image).
  """

  def __init__(self, hparams, vocab_size, **kwargs):
    super().__init__(hparams, vocab_size, **kwargs)
    f = lambda n: conv2d.scaled_filters(n, hparams)
    self.h1 = conv2d.ConvStep2D(f(32), 3, strides=2, separable=False,
                                first_relu=False, name="h1")
    self.h2 = conv2d.ConvStep2D(f(64), 3, separable=False, name="h2")
    self.r1 = conv2d.ConvRes2D(f(128), name="r1")
    self.r2 = conv2d.ConvRes2D(f(256), name="r2")
    # The last block gives the body depth exactly: never scaled.
    self.r3 = conv2d.ConvRes2D(hparams.hidden_size, name="r3")

  def example_inputs(self):
    # Any size builds the same variables: the convolutions do not depend
    # on the image's side or its channels (see to_rgb).
    return tf.zeros([1, 32, 32, 3], tf.uint8)

  def bottom(self, x, training=False):
    if x.shape.rank != 4:
      raise ValueError(f"image modality takes [B, H, W, C] images, got "
                       f"shape {x.shape}")
    h = self.h2(self.h1(to_rgb(normalize_pixels(x))))
    h = self.r3(self.r2(self.r1(h)))
    seq, spatial = flatten_2d(h)
    mask = tf.ones(tf.shape(seq)[:2], tf.bool)
    return seq, mask, {"spatial_shape": spatial}

  def targets_bottom(self, ids, training=False):
    raise NotImplementedError(
        "the image modality is an input modality only: no problem here has "
        "image targets (captioning has text targets, classification has "
        "class_label targets)")

  def top(self, body_output, training=False, context=None):
    raise NotImplementedError(
        "the image modality cannot produce images: use it for inputs only")
