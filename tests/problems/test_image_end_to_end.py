"""Image problems through datagen, the trainer and the decoder.

Classification on scikit-learn's digits, captioning on a fake Tux Paint
layout, both with the Transformer body between the image modality net and
the class-label or text output.
"""
import os

import numpy as np

from t2tlite.data import pipeline
from t2tlite.data import datagen
from t2tlite.decode import decoder
from t2tlite import registry
from t2tlite.train import trainer
from t2tlite.problems import image_caption_tuxpaint as tux
from t2tlite.problems import image_digits  # noqa: F401  (registers it)
from t2tlite.modalities import class_label  # noqa: F401
from t2tlite.modalities import image  # noqa: F401

import test_image_problems as helpers  # the fake layouts and vocabulary



def model_and_hparams():
  # The Transformer: with these settings it learns the digits within the
  # test's 300 steps (the tiny MultiModel stayed at chance that long).
  return "transformer", "transformer_tiny"


IMAGE_HPARAMS = "image_batch_size=32,image_size=8"


def with_image_keys(hparams_set):
  """The tiny set plus the image keys the test overrides."""
  name = hparams_set + "_images_test"
  if name not in registry.hparams_sets:
    base = registry.hparams_sets.get(hparams_set)
    registry.hparams_sets.register(name)(
        lambda: base().replace(image_batch_size=32, image_size=8))
  return name


def test_digits_train_and_decode(tmp_path):
  model, hparams_set = model_and_hparams()
  data_dir, out = str(tmp_path / "data"), str(tmp_path / "out")
  datagen.generate(["image_digits"], data_dir, str(tmp_path / "tmp"))
  metrics = trainer.train(
      problems=["image_digits"], model=model,
      hparams_set=with_image_keys(hparams_set),
      hparams_overrides=IMAGE_HPARAMS + ",learning_rate=0.003",
      data_dir=data_dir, output_dir=out, train_steps=300, eval_every=300,
      eval_steps=12)
  m = metrics["image_digits"]
  assert 0.0 <= m["accuracy"] <= 1.0 and "top5_accuracy" in m
  assert m["accuracy"] > 0.2  # chance is 0.1
  # Decode image files, one bad line among them.
  p = registry.problem("image_digits")
  lines = []
  pairs = pipeline.eval_pairs(p, data_dir, "test", p_hparams(out), limit=3)
  for n, (pixels, ref) in enumerate(pairs):
    path = str(tmp_path / f"digit{n}.png")
    helpers.write_png(path, pixels)
    lines.append(path)
  lines.insert(1, str(tmp_path / "missing.png"))
  errors = []
  dec = decoder.Decoder(out, data_dir=data_dir,
                        decode_hparams_text="top_k=5")
  outputs = dec.decode_lines("image_digits", lines, report=errors.append)
  assert outputs[1] == "" and "cannot read image" in errors[0]
  for line in (outputs[0], outputs[2], outputs[3]):
    names = [item.split(":")[0] for item in line.split("; ")]
    assert len(names) == 5 and set(names) <= set(p.class_names)
  scores, hyps, refs = dec.evaluate("image_digits", "test", limit=40)
  assert len(hyps) == 40 and 0.0 <= scores["accuracy"] <= 1.0


def p_hparams(output_dir):
  from t2tlite.train import run_config
  return run_config.read(output_dir)["hparams"]


def test_tuxpaint_caption_train_and_decode(tmp_path, monkeypatch):
  root = helpers.make_stamps(str(tmp_path / "stamps"))
  monkeypatch.setattr(tux.ImageCaptionTuxpaint, "stamps_dir", root)
  model, hparams_set = model_and_hparams()
  data_dir, out = str(tmp_path / "data"), str(tmp_path / "out")
  os.makedirs(data_dir)
  helpers.write_test_vocab(data_dir)
  datagen.generate(["image_caption_tuxpaint"], data_dir,
                   str(tmp_path / "tmp"))
  metrics = trainer.train(
      problems=["image_caption_tuxpaint"], model=model,
      hparams_set=with_image_keys(hparams_set),
      hparams_overrides="image_batch_size=4,image_size=16",
      data_dir=data_dir, output_dir=out, train_steps=20, eval_every=20,
      eval_steps=2)
  assert np.isfinite(metrics["image_caption_tuxpaint"]["loss"])
  dec = decoder.Decoder(out, data_dir=data_dir,
                        decode_hparams_text="beam_size=1,max_length=8")
  cat = os.path.join(root, "animals", "cat.png")
  text = tmp_path / "caption.txt"
  text.write_text("no image")
  errors = []
  outputs = dec.decode_lines("image_caption_tuxpaint", [cat, str(text)],
                             report=errors.append)
  assert isinstance(outputs[0], str) and outputs[1] == ""
  assert len(errors) == 1 and "cannot read image" in errors[0]
  scores, hyps, _ = dec.evaluate("image_caption_tuxpaint", "test", limit=3)
  assert "bleu" in scores and len(hyps) >= 1
