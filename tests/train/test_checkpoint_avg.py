"""Checkpoint averaging: the mean of a run's last N checkpoints.

The averaged variables equal numpy's mean of the checkpoints' values;
average=1 decodes exactly as the plain decoder; legacy-keyed checkpoints
(class names in their keys) average like today's; too many checkpoints, or
checkpoints of different models, are one clear error line (exit 2 from the
CLIs); the exporter and `t2tlite.load` take the average too, and
`t2tlite-avg-checkpoints` writes it as a run of its own.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import usr_dir_example  # noqa: F401  (registers zen_reverse)
from conftest import TESTS, USR_DIR, run_cli
from t2tlite.serve import api
from t2tlite.train import checkpoint_avg
from t2tlite.decode import decoder
from t2tlite import model as model_lib
from t2tlite import registry
from t2tlite.train import run_config

U = f"--usr_dir={USR_DIR}"
LINES = usr_dir_example.zen_lines()[:6]
FIXTURE = os.path.join(TESTS, "fixtures", "run_2026_12_multimodel_tiny")


def _built_model(run):
  cfg = run_config.read(run)
  model = registry.model(cfg["model"])(cfg["hparams"], cfg["specs"])
  model_lib.set_precision(model, "")
  return model.build_from_specs()


def test_averaged_variables_are_the_numpy_mean(zen_run):
  paths = checkpoint_avg.last_checkpoints(zen_run, 2)
  assert [os.path.basename(p) for p in paths] == ["ckpt-200", "ckpt-400"]
  model = _built_model(zen_run)
  values = checkpoint_avg.restore_average(model, paths)
  readers = [tf.train.load_checkpoint(p) for p in paths]
  variables = model_lib.structured_variables(model)
  assert set(values) == set(variables)
  floats = 0
  for key, var in variables.items():
    ckey = model_lib._checkpoint_key(key)  # pylint: disable=protected-access
    saved = [r.get_tensor(ckey) for r in readers]
    if np.issubdtype(saved[0].dtype, np.floating):
      floats += 1
      want = np.mean(np.stack(saved).astype(np.float64), axis=0)
      np.testing.assert_allclose(var.numpy(), want, rtol=1e-6, atol=1e-7)
    else:  # a dropout seed's state: the newest checkpoint's
      np.testing.assert_array_equal(np.asarray(var.numpy()), saved[-1])
  assert floats > 10


def test_average_of_one_decodes_as_the_plain_decoder(zen_run):
  hp = "beam_size=2"
  plain = decoder.Decoder(zen_run, decode_hparams_text=hp)
  one = decoder.Decoder(zen_run, decode_hparams_text=hp, average=1)
  assert one.checkpoint_paths == [plain.checkpoint_path]
  assert one.decode_lines("zen_reverse", LINES) == plain.decode_lines(
      "zen_reverse", LINES)
  # average=1 ending at an older checkpoint is that checkpoint.
  old = os.path.join(zen_run, "ckpt-200")
  assert decoder.Decoder(zen_run, decode_hparams_text=hp, checkpoint=old,
                         average=1).decode_lines("zen_reverse", LINES) == (
      decoder.Decoder(zen_run, decode_hparams_text=hp,
                      checkpoint=old).decode_lines("zen_reverse", LINES))
  two = api.load(zen_run, decode_hparams=hp, average=2)
  assert two.predict("zen_reverse", LINES) == decoder.Decoder(
      zen_run, decode_hparams_text=hp, average=2).decode_lines(
          "zen_reverse", LINES)


def test_legacy_keyed_checkpoints_average(tmp_path):
  """The committed fixture's weights under legacy keys (legacy/ckpt-40) and
  today's (ckpt-40), as two checkpoints of one run: their average is the
  same weights, so it decodes the fixture's recorded outputs."""
  run = str(tmp_path / "run")
  shutil.copytree(FIXTURE, run)
  for name in os.listdir(os.path.join(run, "legacy")):
    shutil.copyfile(os.path.join(run, "legacy", name),
                    os.path.join(run, name.replace("ckpt-40", "ckpt-41")))
  with open(os.path.join(run, "checkpoint"), "w") as f:  # the state file
    f.write('model_checkpoint_path: "ckpt-41"\n'
            'all_model_checkpoint_paths: "ckpt-40"\n'
            'all_model_checkpoint_paths: "ckpt-41"\n')
  with open(os.path.join(run, "inputs.txt")) as f:
    lines = f.read().splitlines()
  with open(os.path.join(run, "expected_beam2.json")) as f:
    expected = json.load(f)
  dec = decoder.Decoder(run, decode_hparams_text="beam_size=2", average=2)
  assert [os.path.basename(p) for p in dec.checkpoint_paths] == [
      "ckpt-40", "ckpt-41"]
  assert dec.decode_lines("zen_reverse", lines) == expected


def test_too_many_or_foreign_checkpoints_are_clear_errors(zen_run, tmp_path):
  with pytest.raises(decoder.DecodeError,
                     match=r"--checkpoint_average=3, but .* holds 2 "
                     r"checkpoints \(ckpt-200, ckpt-400\)"):
    decoder.Decoder(zen_run, average=3)
  with pytest.raises(checkpoint_avg.AverageError, match="up to ckpt-200"):
    checkpoint_avg.last_checkpoints(zen_run, 2,
                                    os.path.join(zen_run, "ckpt-200"))
  model = _built_model(zen_run)
  mine = os.path.join(zen_run, "ckpt-400")
  # Another model (the fixture's multimodel): variables missing.
  with pytest.raises(checkpoint_avg.AverageError,
                     match="ckpt-40 does not hold .* different models"):
    checkpoint_avg.average_values(
        model, [mine, os.path.join(FIXTURE, "ckpt-40")])
  # The same model with another hidden size: a shape, named.
  cfg = run_config.read(zen_run)
  hp = cfg["hparams"]
  other = registry.model("transformer")(
      hp.override(f"hidden_size={hp.hidden_size * 2},"
                  f"filter_size={hp.filter_size * 2}"), cfg["specs"])
  other.build_from_specs()
  path = tf.train.Checkpoint(model=model_lib.variable_map(other)).write(
      str(tmp_path / "other" / "ckpt-1"))
  with pytest.raises(checkpoint_avg.AverageError,
                     match=r"variable \S+ has shape .* different models"):
    checkpoint_avg.average_values(model, [mine, path])


def test_cli_errors_are_one_line_exit_2(zen_run, tmp_path):
  for cli_name, extra in (("t2t_decoder", ["--decode_from_file=/dev/null"]),
                          ("t2t_exporter",
                           [f"--export_dir={tmp_path / 'export'}"])):
    proc = run_cli(cli_name, U, f"--output_dir={zen_run}",
                   "--problem=zen_reverse", "--checkpoint_average=5",
                   *extra, check=False)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "--checkpoint_average=5, but" in lines[0]
    assert "holds 2 checkpoints" in lines[0]


def test_averaged_run_written_decodes_and_exports_as_the_average(
    zen_run, tmp_path):
  import tensorflow_text  # noqa: F401  (the test extra; the export needs it)
  averaged = str(tmp_path / "averaged")
  proc = run_cli("t2t_decoder", U, f"--output_dir={zen_run}",
                 "--problem=zen_reverse", "--checkpoint_average=2",
                 "--decode_hparams=beam_size=2", stdin="\n".join(LINES))
  want = proc.stdout.splitlines()
  assert want == decoder.Decoder(zen_run, decode_hparams_text="beam_size=2",
                                 average=2).decode_lines("zen_reverse",
                                                         LINES)
  cmd = [sys.executable, "-m", "t2tlite.bin.t2t_avg_checkpoints", U,
         f"--output_dir={zen_run}", "--checkpoint_average=2",
         f"--averaged_dir={averaged}"]
  out = subprocess.run(cmd, capture_output=True, text=True, check=True)
  assert "averaged 2 checkpoints (ckpt-200, ckpt-400)" in out.stdout
  assert os.path.basename(tf.train.latest_checkpoint(averaged)) == "ckpt-400"
  assert decoder.Decoder(averaged, decode_hparams_text="beam_size=2"
                         ).decode_lines("zen_reverse", LINES) == want
  again = subprocess.run(cmd, capture_output=True, text=True)
  assert again.returncode == 2 and "not empty" in again.stderr
  # The exporter's average: the same outputs from the SavedModel.
  import tensorflow_text  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
  export_dir = str(tmp_path / "export" / "1")
  proc = run_cli("t2t_exporter", U, f"--output_dir={zen_run}",
                 f"--export_dir={export_dir}", "--checkpoint_average=2",
                 "--decode_hparams=beam_size=2")
  assert "the average of ckpt-200, ckpt-400" in proc.stdout
  loaded = tf.saved_model.load(export_dir)
  got = loaded.signatures["serving_default"](inputs=tf.constant(LINES))
  assert [t.decode() for t in got["outputs"].numpy()] == want
