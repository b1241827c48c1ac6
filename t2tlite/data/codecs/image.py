"""Images: a file of any size and format -> the problem's model input.

Inputs are read with TensorFlow's own decoders (PNG, JPEG, GIF, BMP),
composited on the problem's background where they have alpha, converted
to its channels, then given the problem's evaluation transform
(ImageProblem.transform: resize, pad or central crop). The graph form
does the same in TF ops on the file's bytes.
"""
from t2tlite import registry
from t2tlite.data.codecs import base


@registry.register_codec("image")
class ImageCodec(base.Codec):
  """Image inputs of an ImageProblem."""

  raw_kind = "image"

  def from_line(self, line, hparams):
    """A path to a PNG/JPEG/GIF/BMP of any size -> the model's input."""
    from t2tlite.data import image_utils
    p = self.problem
    path = line.strip()
    try:
      with open(path, "rb") as f:
        data = f.read()
      image = image_utils.read_image(data, p.channels, p.background)
    except (OSError, ValueError) as e:
      raise ValueError(f"{path}: cannot read image ({e})") from None
    return p.transform(image, hparams, training=False).numpy(), None

  def graph_inputs(self, hparams):
    """fn(encoded images [B]) -> uint8 [B, S, S, C], as from_line."""
    import numpy as np
    import tensorflow as tf
    p = self.problem
    size = p.input_size(hparams)

    def one(data):
      image = tf.io.decode_image(data, channels=0, dtype=tf.uint8,
                                 expand_animations=False)
      image = _to_channels(image, p.channels, p.background)
      return p.transform(image, hparams, training=False)

    spec = tf.TensorSpec([size, size, p.channels], tf.uint8)
    fn = lambda strings: tf.map_fn(one, strings, fn_output_signature=spec)
    return fn, np.zeros([1, 1, p.channels], np.uint8)


def _to_channels(image, channels, background):
  """uint8 [H, W, c], c in 1..4 unknown until run time -> [H, W, channels].

  image_utils.to_channels needs the channel count in Python; one branch
  per count gives it that.
  """
  import tensorflow as tf
  from t2tlite.data import image_utils

  def branch(c):
    return lambda: image_utils.to_channels(
        tf.ensure_shape(image, [None, None, c]), channels, background)

  return tf.switch_case(tf.shape(image)[-1] - 1,
                        [branch(c) for c in (1, 2, 3, 4)])
