"""scikit-learn's bundled 8x8 handwritten digits: 1,797 images, offline.

Small enough for tests and a first look at a model. Pixel values 0..16 are
scaled to 0..255. Deterministic split by position: every 10th image (from
the first) is test, every 10th from the second is dev, the rest train.
"""
import numpy as np

from t2tlite import registry
from t2tlite import system_deps
from t2tlite.data import image_problems

_SPLIT_OF_REMAINDER = {0: "test", 1: "dev"}


def split_of(index):
  return _SPLIT_OF_REMAINDER.get(index % 10, "train")


@registry.register_problem
class ImageDigits(image_problems.ImageClassificationProblem):
  """Which digit 0-9 an 8x8 grey image shows."""

  class_names = tuple(str(i) for i in range(10))
  task_token = "to_digit_label"
  image_size = 8
  channels = 1
  resize_mode = "fixed"
  background = 0
  augment_pad = 0     # a 1-pixel shift of an 8x8 digit stalled training (measured)
  flip = False        # a mirrored 2 is not a 2
  num_shards = {"train": 1, "dev": 1, "test": 1}

  def images(self, tmp_dir, split):
    datasets = system_deps.require_module("sklearn.datasets", "scikit-learn",
                                          "image_digits")
    digits = datasets.load_digits()
    pixels = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    for i, (image, label) in enumerate(zip(pixels, digits.target)):
      if split_of(i) == split:
        yield image, int(label)
