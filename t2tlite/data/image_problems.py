"""Base classes of image problems: classification and captioning.

Storage (written by the codecs from what `images` yields): each example
holds its encoded image ("image/encoded", PNG for small and drawn images,
JPEG for big photo collections; the "image" codec), its height and width,
and either a class "label" ("class_label") or caption "targets" (subword
ids + EOS; "text").
Decoding, resizing and augmentation happen in the input pipeline, so one
datagen serves every image size.

Model inputs are uint8 pixels [S, S, C] (the "image" codec: decoding,
transforms, augmentation); the image modality maps them to [-1, 1].
Batches hold hparams.image_batch_size examples (hparams.batch_size counts
tokens for text and would be far too many images); captions are bucketed
by length.
"""
import os

from t2tlite.data import class_label
from t2tlite.data import problem as problem_lib
from t2tlite import system_deps

# Photos are stored with the shorter side at most 342 = 299 / 0.875 pixels,
# so that the Xception family's central 87.5% crop loses nothing at 299.
STORED_SHORT_SIDE = 342


def tfds_images(name, split, tmp_dir, short_side, manual_subdir=None):
  """Yields (JPEG bytes, example) of a tfds split, images shrunk in-graph."""
  import tensorflow as tf
  tfds = system_deps.require_module("tensorflow_datasets",
                                    "tensorflow-datasets", name)
  from t2tlite.data import image_utils
  config = None
  if manual_subdir:
    config = tfds.download.DownloadConfig(
        manual_dir=os.path.join(tmp_dir, manual_subdir))
  builder = tfds.builder(name, data_dir=os.path.join(tmp_dir, "tfds"))
  builder.download_and_prepare(download_config=config)
  ds = builder.as_dataset(split=split, shuffle_files=False)

  def shrink(ex):
    image = image_utils.shrink_short_side(ex["image"], short_side)
    return {**ex, "jpeg": tf.io.encode_jpeg(image, quality=95)}

  ds = ds.map(shrink, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  for ex in ds.as_numpy_iterator():
    yield ex.pop("jpeg"), ex


class ImageProblem(problem_lib.Problem):
  """What classification and captioning share: images in, stored as bytes.

  Subclasses set `image_size` (default model input side), `channels`,
  `resize_mode` and `image_format`, and implement `images(tmp_dir,
  split)` yielding (uint8 [H, W, C] array or encoded bytes, target)
  pairs.

  resize_mode:
    "fixed"  images already have the input size (MNIST-like): training
             shifts them by up to `augment_pad` pixels.
    "pad"    drawings on a plain background (Tux Paint): padded to a square
             with `background`, resized, then shifted like "fixed".
    "crop"   photos (ImageNet, COCO): Inception-style random crops in
             training, the central 87.5% in evaluation.
  """

  input_modality = "image"
  image_size = 28
  channels = 3
  resize_mode = "fixed"
  image_format = "png"
  background = 0           # canvas for padding and transparent pixels
  augment_pad = 2
  flip = True              # False where a mirror image changes the class
  stored_short_side = 0    # "crop" photos are stored this small at most

  # --- storage (the "image" codec encodes what this yields) ----------------
  def images(self, tmp_dir, split):
    """Yields (uint8 [H, W(, C)] array or encoded bytes, target) of one
    split; a target is a class name or index, or a caption."""
    raise NotImplementedError

  def generate_examples(self, tmp_dir, split):
    for image, target in self.images(tmp_dir, split):
      yield {"inputs": image, "targets": target}


class ImageClassificationProblem(class_label.ClassLabelTargets, ImageProblem):
  """Image -> one of `class_names`; metrics accuracy and top-5 accuracy."""

  task_token = "to_image_label"
  label_feature = "label"


class ImageCaptionProblem(ImageProblem):
  """Image -> a sentence in the shared subword vocabulary; metric BLEU."""

  target_modality = "text"
  task_token = "to_caption_en"
  metrics = ("bleu",)
  max_decode_length = 64
