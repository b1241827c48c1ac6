"""Fashion-MNIST (Xiao et al. 2017): 70,000 grey 28x28 clothing images.

The complete data set ships in the Debian package dataset-fashion-mnist,
in the IDX files of the original release; datagen installs the package
when it can. Splits: train = the first 55,000 training images, dev = the
last 5,000, test = the 10,000 of t10k.
"""
import gzip
import os

import numpy as np

from t2tlite import registry
from t2tlite import system_deps
from t2tlite.data import image_problems

DATA_DIR = "/usr/share/datasets/fashion-mnist"
DEV_SIZE = 5000

# The IDX type byte -> numpy element type (big-endian where it matters).
_IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"),
              0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def parse_idx(data):
  """IDX bytes (gzipped or not) -> numpy array of the stored shape.

  Layout: two zero bytes, a type byte, the number of dimensions, then each
  dimension as a big-endian uint32, then the data in row-major order.
  """
  if data[:2] == b"\x1f\x8b":
    data = gzip.decompress(data)
  if len(data) < 4 or data[0] != 0 or data[1] != 0:
    raise ValueError("not an IDX file (bad magic number)")
  if data[2] not in _IDX_TYPES:
    raise ValueError(f"IDX file of unknown element type 0x{data[2]:02x}")
  dtype, ndim = _IDX_TYPES[data[2]], data[3]
  header = 4 + 4 * ndim
  if len(data) < header:
    raise ValueError("IDX file truncated in its header")
  dims = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
  count = int(np.prod(dims)) if dims else 1
  if len(data) != header + count * dtype.itemsize:
    raise ValueError(f"IDX file of shape {dims} has {len(data) - header} "
                     f"data bytes, expected {count * dtype.itemsize}")
  return np.frombuffer(data, dtype, count, header).reshape(dims)


def read_idx(path):
  with open(path, "rb") as f:
    return parse_idx(f.read())


@registry.register_problem
class ImageFashionMnist(image_problems.ImageClassificationProblem):
  """Which of 10 kinds of clothing a 28x28 grey image shows."""

  class_names = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
  task_token = "to_fashion_label"
  image_size = 28
  channels = 1
  resize_mode = "fixed"
  background = 0      # white garments on black, as in the original
  flip = True         # a mirrored shoe is still a shoe
  num_shards = {"train": 4, "dev": 1, "test": 1}

  def source_dir(self):
    if not os.path.isdir(DATA_DIR):
      system_deps.ensure_debian_group("fashion_mnist", "image_fashion_mnist")
    return DATA_DIR

  def arrays(self, part):
    """(images [N, 28, 28], labels [N]) of the release's train or t10k."""
    d = self.source_dir()
    images = read_idx(os.path.join(d, f"{part}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(d, f"{part}-labels-idx1-ubyte.gz"))
    if images.shape[0] != labels.shape[0]:
      raise ValueError(f"fashion-mnist {part}: {images.shape[0]} images but "
                       f"{labels.shape[0]} labels")
    return images, labels

  @staticmethod
  def split_rows(split, n):
    """Positions in the release's file (train or t10k) of one split."""
    if split == "train":
      return range(0, n - DEV_SIZE)
    if split == "dev":
      return range(n - DEV_SIZE, n)
    return range(n)

  def images(self, tmp_dir, split):
    images, labels = self.arrays("t10k" if split == "test" else "train")
    for i in self.split_rows(split, images.shape[0]):
      yield images[i], int(labels[i])
