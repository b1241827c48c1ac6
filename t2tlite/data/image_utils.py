"""Pixels: reading any image file, storing images, and the input transforms.

Everything here uses TensorFlow's own image ops (no Pillow needed). Random
augmentations are stateless, seeded per example: the trainer checkpoints
its input iterators, and stateful random ops cannot be checkpointed. Stored
images and model inputs are uint8 pixel values [H, W, C]; the image
modality maps them to [-1, 1].
"""
import numpy as np
import tensorflow as tf

WHITE = 255


def to_channels(image, channels, background=WHITE):
  """uint8 [H, W, c] with any c in 1..4 -> [H, W, channels] (eager only).

  Transparent pixels are composited on `background` first (Tux Paint stamps
  and many PNGs have alpha; dropping it would turn them black).
  """
  image = tf.convert_to_tensor(image)
  c = int(image.shape[-1])
  if c in (2, 4):
    alpha = tf.cast(image[..., -1:], tf.float32) / 255.0
    color = tf.cast(image[..., :-1], tf.float32)
    image = tf.cast(tf.round(color * alpha + background * (1.0 - alpha)),
                    tf.uint8)
    c -= 1
  if c == channels:
    return image
  if channels == 1:
    return tf.cast(tf.round(tf.image.rgb_to_grayscale(
        tf.cast(image, tf.float32))), tf.uint8)
  if channels == 3 and c == 1:
    return tf.image.grayscale_to_rgb(image)
  raise ValueError(f"cannot convert {c} channels to {channels}")


def read_image(data, channels, background=WHITE):
  """Encoded PNG/JPEG/GIF/BMP bytes -> uint8 numpy [H, W, channels].

  Raises ValueError for bytes that are not an image.
  """
  try:
    image = tf.io.decode_image(data, channels=0, dtype=tf.uint8,
                               expand_animations=False)
  except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as e:
    reason = e.message.splitlines()[0] if e.message else "not an image"
    raise ValueError(reason) from None
  return to_channels(image, channels, background).numpy()


def encode(image, fmt="png"):
  """uint8 [H, W, C] -> PNG (lossless) or JPEG (photos) bytes."""
  image = tf.convert_to_tensor(np.asarray(image, np.uint8))
  if fmt == "png":
    return tf.io.encode_png(image).numpy()
  return tf.io.encode_jpeg(image, quality=95).numpy()


def fit_within(image, max_side):
  """Shrinks (never enlarges) so that the longer side is at most max_side."""
  image = tf.convert_to_tensor(image)
  h, w = int(image.shape[0]), int(image.shape[1])
  scale = max_side / max(h, w)
  if scale >= 1.0:
    return image
  size = [max(1, round(h * scale)), max(1, round(w * scale))]
  return _resize(image, size)


def shrink_short_side(image, short_side):
  """Graph-safe: shrinks so that the shorter side is at most short_side."""
  shape = tf.cast(tf.shape(image)[:2], tf.float32)
  scale = tf.minimum(1.0, short_side / tf.reduce_min(shape))
  size = tf.cast(tf.round(shape * scale), tf.int32)
  return _resize(image, tf.maximum(size, 1))


def _resize(image, size):
  out = tf.image.resize(tf.cast(image, tf.float32), size, antialias=True)
  return tf.cast(tf.clip_by_value(tf.round(out), 0, 255), tf.uint8)


def pad_to_square(image, value):
  """Centres the image on a square canvas filled with `value`."""
  shape = tf.shape(image)
  h, w = shape[0], shape[1]
  side = tf.maximum(h, w)
  top, left = (side - h) // 2, (side - w) // 2
  return tf.pad(image, [[top, side - h - top], [left, side - w - left],
                        [0, 0]], constant_values=value)


def resize_to(image, size):
  """Any [H, W, C] -> [size, size, C] (aspect not kept)."""
  return _resize(image, [size, size])


def pad_and_crop(image, pad, value, seed):
  """Random translation by up to `pad` pixels (the CIFAR/MNIST recipe)."""
  shape = tf.shape(image)
  padded = tf.pad(image, [[pad, pad], [pad, pad], [0, 0]],
                  constant_values=value)
  return tf.image.stateless_random_crop(padded, shape, seed=seed)


def random_crop_resize(image, size, seed, area=(0.08, 1.0),
                       aspect=(3.0 / 4.0, 4.0 / 3.0)):
  """Inception-style training crop: a random box of the image, resized.

  The Xception family trained on crops covering 8-100% of the image with
  aspect ratios 3/4..4/3, each resized to the network's input size.
  """
  begin, box, _ = tf.image.stateless_sample_distorted_bounding_box(
      tf.shape(image), tf.zeros([1, 0, 4]), seed=seed,
      min_object_covered=0.0, aspect_ratio_range=aspect, area_range=area,
      max_attempts=10, use_image_if_no_bounding_boxes=True)
  return resize_to(tf.slice(image, begin, box), size)


def central_crop_resize(image, size, fraction=0.875):
  """Evaluation crop: the central 87.5% (299 of 342 pixels), resized."""
  return resize_to(tf.image.central_crop(image, fraction), size)
