"""Images: stored or user files of any size -> the problem's model input.

Stored examples hold the encoded image ("image/encoded", with its height
and width); the pipeline decodes it and gives it the problem's transform
(`transform`: resize, pad or crop, and in training seeded random crops,
shifts and flips). Decode inputs are read with TensorFlow's own decoders
(PNG, JPEG, GIF, BMP), composited on the problem's background where they
have alpha, converted to its channels, then given the evaluation
transform. The graph form does the same in TF ops on the file's bytes.

Hparams: image_size (side of the square model input; 0: the problem's),
image_augment (random crops/shifts and flips in training), image_batch_size
(examples per batch).
"""
from t2tlite import registry
from t2tlite.data.codecs import base


@registry.register_codec("image")
class ImageCodec(base.Codec):
  """Image inputs of an ImageProblem."""

  raw_kind = "image"

  # --- storage: the encoded image and its size -------------------------------
  def encode(self, value):
    """Encoded image bytes (kept as they are) or uint8 pixels [H, W(, C)]
    (encoded in the problem's image_format) -> the stored image."""
    import numpy as np
    from t2tlite.data import image_utils
    if isinstance(value, bytes):
      h, w = image_utils.read_image(value, self.problem.channels).shape[:2]
      return {"image/encoded": value, "image/height": h, "image/width": w}
    image = np.asarray(value, np.uint8)
    if image.ndim == 2:
      image = image[:, :, None]
    h, w = image.shape[:2]
    return {"image/encoded": image_utils.encode(image,
                                                self.problem.image_format),
            "image/height": h, "image/width": w}

  # --- reading stored examples ----------------------------------------------
  def feature_spec(self):
    import tensorflow as tf
    return {"image/encoded": tf.io.FixedLenFeature([], tf.string),
            "image/height": tf.io.FixedLenFeature([], tf.int64),
            "image/width": tf.io.FixedLenFeature([], tf.int64)}

  def needs_seed(self, config, training):
    return bool(training and config.image_augment)

  def to_model(self, example, config, training, seed=None):
    import tensorflow as tf
    image = tf.io.decode_image(example["image/encoded"],
                               channels=self.problem.channels,
                               expand_animations=False)
    return transform(self.problem, image, config, training, seed)

  def batching(self, config):
    size = input_size(self.problem, config)
    return base.BatchSide(batch_size=int(config.image_batch_size),
                          padded_shape=(size, size, self.problem.channels))

  # --- decoding -------------------------------------------------------------
  def from_line(self, line, config):
    """A path to a PNG/JPEG/GIF/BMP of any size -> the model's input:
    the file's bytes through from_raw, run eagerly."""
    import tensorflow as tf
    path = line.strip()
    try:
      with open(path, "rb") as f:
        data = f.read()
      image = self.from_raw(tf.constant(data), config)
    except OSError as e:
      raise ValueError(f"{path}: cannot read image ({e})") from None
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as e:
      reason = e.message.splitlines()[0] if e.message else "not an image"
      raise ValueError(f"{path}: cannot read image ({reason})") from None
    return image.numpy(), None

  def from_raw(self, data, config):
    """Encoded image bytes (a scalar tf.string) -> uint8 [S, S, C], in TF
    ops: t2tlite-decoder runs it eagerly (from_line), the exporter traces
    it (graph_inputs), so the two cannot drift apart."""
    import tensorflow as tf
    p = self.problem
    image = tf.io.decode_image(data, channels=0, dtype=tf.uint8,
                               expand_animations=False)
    image = _to_channels(image, p.channels, p.background)
    return transform(p, image, config, training=False)

  def graph_inputs(self, config):
    """fn(encoded images [B]) -> uint8 [B, S, S, C]: from_raw, mapped."""
    import numpy as np
    import tensorflow as tf
    p = self.problem
    size = input_size(p, config)
    spec = tf.TensorSpec([size, size, p.channels], tf.uint8)
    fn = lambda strings: tf.map_fn(lambda data: self.from_raw(data, config),
                                   strings, fn_output_signature=spec)
    return fn, np.zeros([1, 1, p.channels], np.uint8)


def input_size(problem, config):
  """The side of the square model input: config.image_size, else the
  problem's own."""
  return int(config.image_size or problem.image_size)


def transform(problem, image, config, training, seed=None):
  """uint8 [H, W, C] -> uint8 [S, S, C] model input (graph-safe).

  problem.resize_mode says how (see ImageProblem). With augmentation
  (training and config.image_augment), `seed` is a [2] int tensor: every
  random choice is a stateless op of it.
  """
  from t2tlite.data import image_utils as iu
  import tensorflow as tf
  p = problem
  size = input_size(p, config)
  augment = bool(training and config.image_augment)
  if augment:
    crop_seed, flip_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 2))
  if p.resize_mode == "crop":
    if augment:
      image = iu.random_crop_resize(image, size, crop_seed)
    else:
      image = iu.central_crop_resize(image, size)
  else:
    if p.resize_mode == "pad":
      image = iu.pad_to_square(image, p.background)
    image = iu.resize_to(image, size)
    if augment and p.augment_pad:
      image = iu.pad_and_crop(image, p.augment_pad, p.background, crop_seed)
  if augment and p.flip:
    image = tf.image.stateless_random_flip_left_right(image, flip_seed)
  return tf.ensure_shape(image, [size, size, p.channels])


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
