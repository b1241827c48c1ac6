"""ImageNet 2012 (ILSVRC) classification, through tensorflow-datasets.

ImageNet cannot be downloaded automatically: put ILSVRC2012_img_train.tar
and ILSVRC2012_img_val.tar in `<tmp_dir>/imagenet2012_manual/`; datagen
lets the tfds builder `imagenet2012` prepare them under `<tmp_dir>/tfds`
and then stores every image as JPEG with its shorter side shrunk to 342
pixels (299 / 0.875, so the evaluation crop of the Xception family loses
nothing). Splits: train = tfds train less its last 10,000 images, dev =
those 10,000, test = the 50,000 validation images (whose labels are
public, unlike tfds's test split).

The input pipeline takes Inception-style random crops in training and the
central 87.5% in evaluation, resized to hparams `image_size` (default 299,
the paper's setting; smaller sizes for quick runs). Class names are the
WordNet ids of tfds's label file (n01440764, ...).
"""
from t2tlite import registry
from t2tlite import system_deps
from t2tlite.data import image_problems

TFDS_NAME = "imagenet2012"
DEV_SIZE = 10000
_TFDS_SPLITS = {"train": f"train[:-{DEV_SIZE}]", "dev": f"train[-{DEV_SIZE}:]",
                "test": "validation"}


def imagenet_class_names():
  """The 1,000 WordNet ids, in tfds's label order."""
  system_deps.require_module("tensorflow_datasets", "tensorflow-datasets",
                             "image_imagenet")
  from tensorflow_datasets.datasets.imagenet2012 import imagenet_common
  with open(imagenet_common.label_names_file()) as f:
    return tuple(line.strip() for line in f if line.strip())


class _LazyNames:
  """Class names read from tfds on first use, not at import."""

  def __get__(self, obj, cls):
    if cls._names is None:
      cls._names = imagenet_class_names()
    return cls._names


@registry.register_problem
class ImageImagenet(image_problems.ImageClassificationProblem):
  """Which of 1,000 ImageNet classes a photo shows."""

  class_names = _LazyNames()
  _names = None
  task_token = "to_imagenet_label"
  image_size = 299
  channels = 3
  resize_mode = "crop"
  image_format = "jpeg"
  background = 255
  num_shards = {"train": 1024, "dev": 10, "test": 50}

  def images(self, tmp_dir, split):
    for jpeg, ex in image_problems.tfds_images(
        TFDS_NAME, _TFDS_SPLITS[split], tmp_dir,
        image_problems.STORED_SHORT_SIDE, "imagenet2012_manual"):
      yield jpeg, int(ex["label"])
