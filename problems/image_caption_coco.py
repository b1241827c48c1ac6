"""MS-COCO 2014 captioning, through tensorflow-datasets `coco_captions`.

tfds downloads COCO itself (this needs the open internet) into
`<tmp_dir>/tfds`. It uses Karpathy and Li's splits; ours are train = train
+ restval (about 113k images), dev = val (5,000), test = test (5,000).
Each of an image's (usually five) captions is one example, with the image
stored again as JPEG, shorter side shrunk to 342 pixels. Captions are in
the shared text vocabulary; the metric is BLEU of decoded captions against
the one reference of each example.
"""
from t2tlite import registry
from t2tlite.data import image_problems
from t2tlite.problems import ddtp

TFDS_NAME = "coco_captions"
_TFDS_SPLITS = {"train": "train+restval", "dev": "val", "test": "test"}


@registry.register_problem
class ImageCaptionCoco(image_problems.ImageCaptionProblem):
  """Caption a COCO photo in English."""

  vocab_name = ddtp.SHARED_VOCAB

  task_token = "to_caption_en"
  image_size = 299
  channels = 3
  resize_mode = "crop"
  image_format = "jpeg"
  background = 255
  num_shards = {"train": 256, "dev": 8, "test": 8}

  def images(self, tmp_dir, split):
    for jpeg, ex in image_problems.tfds_images(
        TFDS_NAME, _TFDS_SPLITS[split], tmp_dir,
        image_problems.STORED_SHORT_SIDE):
      for text in ex["captions"]["text"]:
        caption = " ".join(text.decode("utf-8").split())
        if caption:
          yield jpeg, caption
