"""--warm_start_from: a new run starts from another run's trained model.

The source is the committed fixture run (multimodel_tiny trained on
zen_reverse alone; tests/fixtures/run_2026_12_multimodel_tiny). A new run
on image_digits + zen_reverse, listed in that order so its modality nets
sit in other positions than the source's, is warm-started from it: before
any training step zen_reverse decodes exactly as the source run (the
fixture's recorded outputs), its text net and body hold the source's
weights, image_digits' nets are fresh (the same initial values as a run
without warm start), and step and optimiser start at 0. A shape mismatch
is one error line naming the variable (exit 2), and leaves no run config
behind.
"""
import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

import usr_dir_example  # noqa: F401  (registers zen_reverse)
from conftest import TESTS, USR_DIR, run_cli
from t2tlite.decode import decoder
from t2tlite.data import pipeline
from t2tlite import model as model_lib
from t2tlite.train import run_config
from t2tlite.train import seeding
from t2tlite.train import trainer
from t2tlite.train import warm_start

U = f"--usr_dir={USR_DIR}"
FIXTURE = os.path.join(TESTS, "fixtures", "run_2026_12_multimodel_tiny")
TEXT_NET = "modality_nets[text|zen_words|137]"
NEW_NETS = ["modality_nets[class_label|labels:image_digits|10]",
            "modality_nets[image||0]"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
  root = tmp_path_factory.mktemp("warm_start")
  run_cli("t2t_datagen", "--problem=zen_reverse,image_digits", U,
          f"--data_dir={root}/data", f"--tmp_dir={root}/tmp")
  return str(root / "data")


@pytest.fixture
def source(tmp_path):
  out = str(tmp_path / "source")
  shutil.copytree(FIXTURE, out)
  with open(os.path.join(out, "inputs.txt")) as f:
    lines = f.read().splitlines()
  with open(os.path.join(out, "expected_beam2.json")) as f:
    expected = json.load(f)
  return out, lines, expected


def _layer_values(model, ident):
  layer = dict(warm_start._top_level(model))[ident]  # pylint: disable=protected-access
  return [np.array(v.numpy()) for k, v in
          model_lib.structured_variables(layer).items()
          if "seed" not in k.rsplit(".", 1)[-1]]


def test_warm_start_adds_a_problem(data, source, tmp_path):
  src, lines, expected = source
  cfg = run_config.read(src)
  problems = ["image_digits", "zen_reverse"]
  out = str(tmp_path / "new")
  seeding.seed_everything(cfg["hparams"].seed)
  tr = trainer.Trainer(problems, "multimodel", cfg["hparams_set"],
                       cfg["hparams"], data, out, warm_start_from=src)
  record = tr.warm_started_from
  assert sorted(record["layers_new"]) == NEW_NETS
  assert TEXT_NET in record["layers_loaded"]
  assert any(l.startswith("body ") for l in record["layers_loaded"])
  with open(os.path.join(out, warm_start.RECORD_NAME)) as f:
    assert json.load(f) == record
  assert int(tr.step) == 0 and int(tr.optimizer.iterations) == 0
  # The modality nets sit in other places than in the source's model: the
  # text net is layer 0 there, not here.
  mine = [ident for ident, _ in warm_start._top_level(tr.model)]  # pylint: disable=protected-access
  assert mine.index(TEXT_NET) != 0

  # Before any step, zen_reverse decodes as the source run did.
  new = decoder.Decoder(out, decode_hparams_text="beam_size=2",
                        model=tr.model)
  assert new.decode_lines("zen_reverse", lines) == expected
  old = decoder.Decoder(src, decode_hparams_text="beam_size=2")
  problem = tr.problems[problems.index("zen_reverse")]
  batch = next(iter(pipeline.batched(problem, data, "dev", tr.hparams,
                                    training=False)))
  want, _ = old.model(batch, problem="zen_reverse", training=False)
  got, _ = tr.model(batch, problem="zen_reverse", training=False)
  np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5,
                             atol=1e-5)
  for a, b in zip(_layer_values(tr.model, TEXT_NET),
                  _layer_values(old.model, TEXT_NET)):
    np.testing.assert_array_equal(a, b)

  # image_digits' nets are new: the initial values of a run without warm
  # start (same seed), not anything of the source.
  seeding.seed_everything(cfg["hparams"].seed)
  plain = trainer.Trainer(problems, "multimodel", cfg["hparams_set"],
                          cfg["hparams"], data, str(tmp_path / "plain"))
  assert plain.warm_started_from is None
  for ident in NEW_NETS:
    for a, b in zip(_layer_values(tr.model, ident),
                    _layer_values(plain.model, ident)):
      np.testing.assert_array_equal(a, b)
  assert not all(np.array_equal(a, b) for a, b in zip(
      _layer_values(tr.model, TEXT_NET), _layer_values(plain.model,
                                                       TEXT_NET)))

  # It trains; once it has a checkpoint, a restart resumes it and the warm
  # start is not applied again.
  tr.train(2, eval_every=2, eval_steps=1, log_every=1)
  again = trainer.Trainer(problems, "multimodel", cfg["hparams_set"],
                          cfg["hparams"], data, out, warm_start_from=src)
  assert again.restored_from.endswith("ckpt-2")
  assert again.warm_started_from is None and int(again.step) == 2


def test_warm_start_errors(source, tmp_path):
  src, _, _ = source
  with pytest.raises(warm_start.WarmStartError, match="holds no trained"):
    warm_start.check_source(str(tmp_path), "multimodel")
  with pytest.raises(warm_start.WarmStartError, match="same model"):
    warm_start.check_source(src, "transformer")
  with pytest.raises(warm_start.WarmStartError, match="own output_dir"):
    warm_start.check_source(src, "multimodel", output_dir=src)
  empty = str(tmp_path / "no_ckpt")
  shutil.copytree(src, empty)
  for name in os.listdir(empty):
    if name.startswith("ckpt-") or name == "checkpoint":
      os.remove(os.path.join(empty, name))
  with pytest.raises(warm_start.WarmStartError, match="no checkpoint"):
    warm_start.check_source(empty, "multimodel")


def test_shape_mismatch_is_one_error_line_naming_the_variable(
    data, source, tmp_path):
  src, _, _ = source
  hidden = run_config.read(src)["hparams"].hidden_size
  out = tmp_path / "wider"
  proc = run_cli("t2t_trainer", U, "--problems=zen_reverse-image_digits",
                 "--model=multimodel", "--hparams_set=multimodel_tiny",
                 f"--hparams=hidden_size={hidden * 2}", f"--data_dir={data}",
                 f"--output_dir={out}", f"--warm_start_from={src}",
                 "--train_steps=1", check=False)
  assert proc.returncode == 2, proc.stderr
  errors = [l for l in proc.stderr.splitlines() if " error: " in l]
  assert len(errors) == 1 and proc.stderr.strip().endswith(errors[0])
  assert errors[0].startswith("t2tlite-trainer: error: variable ")
  assert f"{hidden * 2}" in errors[0] and "has shape" in errors[0]
  # Nothing left that would stop the same output_dir from starting again.
  assert not os.path.exists(os.path.join(out, run_config.CONFIG_NAME))
  assert tf.train.latest_checkpoint(str(out)) is None
