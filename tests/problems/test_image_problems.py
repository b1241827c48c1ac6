"""Image problems: readers, splits, datagen and the input pipeline.

Fashion-MNIST and Tux Paint run on small files written here in the
packages' own layouts; ImageNet and COCO on tfds mock data; the digits on
scikit-learn's real bundled set.
"""
import gzip
import os
import shutil
import struct

import numpy as np
import pytest
import tensorflow as tf

from t2tlite.data import problem as problem_lib
from t2tlite.data import datagen
from t2tlite import metrics
from t2tlite.data import codecs
from t2tlite.decode import decoder
from t2tlite.data import pipeline
from t2tlite.data import vocab as vocab_lib
from t2tlite.hparams_lib import defaults
from t2tlite.problems import image_caption_tuxpaint as tux
from t2tlite.problems import image_digits
from t2tlite.problems import image_fashion_mnist as fmnist
from t2tlite.data import image_problems
from t2tlite.data import image_utils

HP = defaults().replace(hidden_size=16, max_length=32, batch_size=256,
                        image_batch_size=4)


def idx_bytes(array, type_byte=0x08):
  dtype = {0x08: ">u1", 0x0C: ">i4"}[type_byte]
  header = bytes([0, 0, type_byte, array.ndim]) + struct.pack(
      f">{array.ndim}I", *array.shape)
  return header + np.asarray(array).astype(dtype).tobytes()


def first(ds):
  return next(iter(ds.take(1)))


def write_png(path, array):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "wb") as f:
    f.write(image_utils.encode(array))


# --- IDX ----------------------------------------------------------------------
def test_parse_idx_reads_header_and_data():
  images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
  data = idx_bytes(images)
  assert data[:4] == b"\x00\x00\x08\x03"  # MNIST's magic number 2051
  np.testing.assert_array_equal(fmnist.parse_idx(data), images)
  np.testing.assert_array_equal(fmnist.parse_idx(gzip.compress(data)), images)
  big = np.array([1, -2, 70000], np.int32)
  np.testing.assert_array_equal(fmnist.parse_idx(idx_bytes(big, 0x0C)), big)


@pytest.mark.parametrize("data, message", [
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "magic"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "element type"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x02", "header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x05", "expected 3"),
])
def test_parse_idx_rejects_broken_files(data, message):
  with pytest.raises(ValueError, match=message):
    fmnist.parse_idx(data)


def test_real_fashion_mnist_headers():
  for part, n in (("train", 60000), ("t10k", 10000)):
    with gzip.open(os.path.join(fmnist.DATA_DIR,
                                f"{part}-images-idx3-ubyte.gz")) as f:
      assert struct.unpack(">IIII", f.read(16)) == (2051, n, 28, 28)
    with gzip.open(os.path.join(fmnist.DATA_DIR,
                                f"{part}-labels-idx1-ubyte.gz")) as f:
      assert struct.unpack(">II", f.read(8)) == (2049, n)


# --- Fashion-MNIST on a fake release ------------------------------------------
@pytest.fixture
def fake_fashion(tmp_path, monkeypatch):
  rng = np.random.RandomState(0)
  for part, n in (("train", 30), ("t10k", 10)):
    images = rng.randint(0, 256, [n, 28, 28]).astype(np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
      with open(tmp_path / f"{part}-{kind}-ubyte.gz", "wb") as f:
        f.write(gzip.compress(idx_bytes(arr)))
  monkeypatch.setattr(fmnist, "DATA_DIR", str(tmp_path))
  monkeypatch.setattr(fmnist, "DEV_SIZE", 5)
  return tmp_path


def test_fashion_mnist_round_trip(fake_fashion, tmp_path):
  p = fmnist.ImageFashionMnist()
  p.num_shards = {"train": 2, "dev": 1, "test": 1}
  data_dir = str(tmp_path / "data")
  written = datagen.generate_data(p, data_dir, str(tmp_path / "tmp"))
  assert written == {"train": 25, "dev": 5, "test": 10}
  # The dev split is the end of the release's train file, never trained on.
  train_rows = set(p.split_rows("train", 30))
  assert not train_rows & set(p.split_rows("dev", 30))
  batch = first(pipeline.batched(p, data_dir, "train", HP, training=True))
  assert batch["inputs"].shape == (4, 28, 28, 1)
  assert batch["inputs"].dtype == tf.uint8
  assert batch["targets"].shape == (4, 1) and batch["targets"].dtype == tf.int64
  # Evaluation batches are the stored pixels, unchanged.
  ev = first(pipeline.batched(p, data_dir, "test", HP, training=False))
  raw = fmnist.read_idx(str(fake_fashion / "t10k-images-idx3-ubyte.gz"))
  np.testing.assert_array_equal(ev["inputs"].numpy()[:, :, :, 0], raw[:4])
  assert problem_lib.spec(p, data_dir).target_vocab_size == 10


# --- digits -------------------------------------------------------------------
def test_digits_splits_are_disjoint_and_complete():
  splits = [image_digits.split_of(i) for i in range(1797)]
  assert splits.count("test") == 180 and splits.count("dev") == 180
  assert splits.count("train") == 1797 - 360


def test_digits_round_trip(tmp_path):
  p = image_digits.ImageDigits()
  data_dir = str(tmp_path / "data")
  assert datagen.generate_data(p, data_dir, str(tmp_path / "tmp")) == {
      "train": 1437, "dev": 180, "test": 180}
  batch = first(pipeline.batched(p, data_dir, "dev", HP, training=False))
  assert batch["inputs"].shape == (4, 8, 8, 1)
  assert int(tf.reduce_max(batch["inputs"])) > 200  # 16 -> 255
  hp = HP.replace(image_size=16)
  assert first(pipeline.batched(p, data_dir, "train", hp, True))["inputs"].shape == (
      4, 16, 16, 1)
  inputs, ref = next(pipeline.eval_pairs(p, data_dir, "test", HP))
  assert inputs.shape == (8, 8, 1) and ref in p.class_names


# --- decoding helpers ---------------------------------------------------------
def test_decode_input_reads_any_image_and_rejects_others(tmp_path):
  p = fmnist.ImageFashionMnist()
  rgb = np.zeros([40, 30, 4], np.uint8)
  rgb[..., 0] = 255
  rgb[..., 3] = 255
  write_png(str(tmp_path / "red.png"), rgb)
  inputs = codecs.for_problem(p, None).inputs
  arr, warning = inputs.from_line(str(tmp_path / "red.png"), HP)
  assert arr.shape == (28, 28, 1) and arr.dtype == np.uint8 and not warning
  jpeg = tmp_path / "photo.jpg"
  jpeg.write_bytes(image_utils.encode(np.full([50, 60, 3], 200, np.uint8),
                                      "jpeg"))
  assert inputs.from_line(str(jpeg), HP)[0].shape == (28, 28, 1)
  (tmp_path / "notes.txt").write_text("not a picture")
  for bad in (str(tmp_path / "notes.txt"), str(tmp_path / "missing.png")):
    with pytest.raises(ValueError, match="cannot read image"):
      inputs.from_line(bad, HP)


def test_transparency_is_composited_on_white():
  rgba = np.zeros([2, 2, 4], np.uint8)  # fully transparent black
  out = image_utils.to_channels(rgba, 3).numpy()
  assert (out == 255).all()


def test_classification_output_and_score():
  p = fmnist.ImageFashionMnist()
  probs = np.linspace(0.0, 1.0, 10)
  target = codecs.for_problem(p, None).targets
  dhp = decoder.decode_hparams().values()
  assert target.to_text(probs, dict(dhp, top_k=1)) == "Ankle boot"
  top5 = target.to_text(probs, dict(dhp, top_k=5))
  assert top5.split("; ")[0] == "Ankle boot:1.0000" and top5.count(";") == 4
  assert metrics.score(p, ["Bag", "Coat"], ["Bag", "Shirt"]) == {
      "accuracy": 0.5}
  both = metrics.score(p, [top5], ["Shirt"])
  assert both == {"accuracy": 0.0, "top5_accuracy": 1.0}
  assert target.reference({"label": np.array(8)}) == "Bag"


# --- Tux Paint on a fake package layout ---------------------------------------
CAPTIONS = {
    "animals/cat.png": "A cat.\nde.utf8=Eine Katze.\nfr.utf8=Un chat.\n",
    "animals/dog.png": "A dog.\nfr.utf8=Un chien.\n",
    "food/Candy_cane_photo_1.png": "A candy cane.\nde.utf8=Eine Zuckerstange.",
    "food/Candy_cane_photo_2.png": "Another candy cane.\nde.utf8=Noch eine.",
    "food/fruit/apple.png": "An apple.\nde.utf8=Ein Apfel.\nfr.utf8=Une pomme.",
    "town/house.svg": "A house.\nde.utf8=Ein Haus.\nfr.utf8=Une maison.",
}
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">'
       '<rect x="10" y="10" width="80" height="50" fill="#c00"/></svg>')


def make_stamps(root, extra=30):
  rng = np.random.RandomState(1)
  captions = dict(CAPTIONS)
  for i in range(extra):
    captions[f"plants/plant{chr(97 + i % 26)}{chr(97 + i // 26)}x.png"] = (
        f"Plant number {i}.\nde.utf8=Pflanze {i}.\nfr.utf8=Plante {i}.")
  for rel, text in captions.items():
    path = os.path.join(root, rel)
    stem = os.path.splitext(path)[0]
    if rel.endswith(".svg"):
      os.makedirs(os.path.dirname(path), exist_ok=True)
      with open(path, "w") as f:
        f.write(SVG)
    else:
      write_png(path, rng.randint(0, 256, [120, 80, 4]).astype(np.uint8))
    with open(stem + ".txt", "w") as f:
      f.write(text)
  # A mirror variant without a caption, and a stamp with both PNG and SVG.
  write_png(os.path.join(root, "animals/cat_mirror.png"),
            np.zeros([8, 8, 4], np.uint8))
  shutil.copy(os.path.join(root, "town/house.svg"),
              os.path.join(root, "animals/dog.svg"))
  return root


@pytest.fixture
def fake_tuxpaint(tmp_path, monkeypatch):
  root = make_stamps(str(tmp_path / "stamps"))
  monkeypatch.setattr(tux.ImageCaptionTuxpaint, "stamps_dir", root)
  return root


def test_parse_caption_file():
  got = tux.parse_caption_file("A head of lettuce.\nde.utf8=Ein Kopfsalat."
                               "\nde_CH.utf8=x\nfr.utf8= Une  laitue. \n")
  assert got == {"en": "A head of lettuce.", "de": "Ein Kopfsalat.",
                 "de_CH": "x", "fr": "Une laitue."}


def test_tuxpaint_finds_captioned_stamps_and_keeps_variants_together(
    fake_tuxpaint):
  stamps = tux.ImageCaptionTuxpaint().stamps()
  paths = [os.path.relpath(s[0], fake_tuxpaint) for s in stamps]
  assert len(stamps) == len(CAPTIONS) + 30
  assert "animals/dog.png" in paths and "animals/dog.svg" not in paths
  assert not any("mirror" in p for p in paths)
  side = {p: s[2] for p, s in zip(paths, stamps)}
  assert side["food/Candy_cane_photo_1.png"] == side[
      "food/Candy_cane_photo_2.png"]
  assert {"train", "dev", "test"} <= set(side.values())


def test_tuxpaint_round_trip(fake_tuxpaint, tmp_path):
  data_dir, tmp_dir = str(tmp_path / "data"), str(tmp_path / "tmp")
  os.makedirs(data_dir)
  write_test_vocab(data_dir)
  en = tux.ImageCaptionTuxpaint()
  written = datagen.generate_data(en, data_dir, tmp_dir)
  assert sum(written.values()) == len(CAPTIONS) + 30
  de = tux.ImageCaptionTuxpaintDe()
  assert sum(datagen.generate_data(de, data_dir, tmp_dir).values()) == (
      len(CAPTIONS) + 30 - 1)  # the dog has no German caption
  assert (problem_lib.spec(en, data_dir).task_token !=
          problem_lib.spec(de, data_dir).task_token)
  hp = HP.replace(image_size=32)
  batch = first(pipeline.batched(en, data_dir, "train", hp, training=True))
  assert batch["inputs"].shape == (4, 32, 32, 3)
  assert batch["targets"].dtype == tf.int64 and batch["targets"].shape[0] == 4
  # The stored SVG raster keeps the drawing's aspect on a white canvas.
  stored = en.cached_png(os.path.join(fake_tuxpaint, "town/house.svg"),
                         tmp_dir)
  house = image_utils.read_image(stored, 3)
  assert house.shape == (48, 96, 3) and (house[0, 0] == 255).all()
  inputs, ref = next(pipeline.eval_pairs(en, data_dir, "test", hp))
  assert inputs.shape == (32, 32, 3) and ref


def test_real_tuxpaint_layout():
  stamps = tux.find_stamps(tux.STAMPS_DIR)
  assert len(stamps) >= 900  # 950 in the 2022.06.04 package
  assert sum(p.endswith(".svg") for p, _ in stamps) >= 100


# --- tfds: ImageNet and COCO on mock data -------------------------------------
def write_test_vocab(data_dir):
  lines = ["A cat sits on the mat.", "Eine Katze.", "Un chat.",
           "Two dogs play in the park.", "An apple and a pear."] * 20
  lines += [" ".join(chr(97 + (i * j) % 26) * 3 for j in range(6))
            for i in range(200)]
  vocab_lib.train_subword_vocab(
      vocab_lib.vocab_path(data_dir, "shared_subword_8k"), lines, 200)


def test_imagenet_on_mock_data(tmp_path):
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  from t2tlite.problems import image_imagenet
  p = image_imagenet.ImageImagenet()
  p.num_shards = {"train": 2, "dev": 1, "test": 1}
  data_dir = str(tmp_path / "data")
  with tfds.testing.mock_data(num_examples=4):
    assert datagen.generate_data(p, data_dir, str(tmp_path / "tmp")) == {
        "train": 4, "dev": 4, "test": 4}
  assert len(p.class_names) == 1000 and p.class_names[0] == "n01440764"
  hp = HP.replace(image_size=24)
  for training in (True, False):
    batch = first(pipeline.batched(p, data_dir, "train", hp, training))
    assert batch["inputs"].shape == (4, 24, 24, 3)
    assert batch["inputs"].dtype == tf.uint8
  assert problem_lib.spec(p, data_dir).target_vocab_size == 1000


def test_coco_on_mock_data(tmp_path):
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  from t2tlite.problems import image_caption_coco
  p = image_caption_coco.ImageCaptionCoco()
  p.num_shards = {"train": 1, "dev": 1, "test": 1}
  data_dir = str(tmp_path / "data")
  os.makedirs(data_dir)
  write_test_vocab(data_dir)
  with tfds.testing.mock_data(num_examples=2, num_sub_examples=3):
    written = datagen.generate_data(p, data_dir, str(tmp_path / "tmp"))
  assert written["train"] > 2  # one example per caption
  hp = HP.replace(image_size=20)
  batch = first(pipeline.batched(p, data_dir, "dev", hp, training=False))
  assert batch["inputs"].shape[1:] == (20, 20, 3)
  ids = batch["targets"].numpy()[0]
  assert ids[ids > 0][-1] == vocab_lib.EOS_ID
  score = metrics.score(p, ["a cat sits on the mat"], ["a cat sits on the mat"])
  assert score["bleu"] == 100.0


def test_training_stream_is_seeded_and_checkpointable(tmp_path):
  """The trainer checkpoints its input iterators: augmentation must allow it."""
  p = image_digits.ImageDigits()
  p.augment_pad = 1  # digits train unaugmented; this test needs the shifts
  data_dir = str(tmp_path / "data")
  datagen.generate_data(p, data_dir, str(tmp_path / "tmp"))
  hp = HP.replace(image_batch_size=64)
  a = iter(pipeline.batched(p, data_dir, "train", hp, training=True, seed=3))
  tf.train.Checkpoint(stream=a).save(str(tmp_path / "ckpt"))
  b = first(pipeline.batched(p, data_dir, "train", hp, training=True, seed=3))
  first_a = next(a)
  np.testing.assert_array_equal(first_a["inputs"], b["inputs"])
  plain = first(pipeline.batched(p, data_dir, "train", HP.replace(
      image_augment=False, image_batch_size=64), training=True, seed=3))
  assert not np.array_equal(plain["inputs"], first_a["inputs"])
