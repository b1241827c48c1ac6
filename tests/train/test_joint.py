"""Joint training across modalities: one MultiModel, four kinds of data."""
import json
import math
import os
import subprocess

import numpy as np
import pytest

from conftest import JOINT_PROBLEMS, USR_DIR, run_cli
import usr_dir_example  # noqa: F401  (registers zen_* in this process)

U = f"--usr_dir={USR_DIR}"


@pytest.fixture(scope="module")
def joint_data(joint_run):
  return joint_run[0]


def test_joint_training_of_all_modalities_through_the_cli(joint_run,
                                                          tmp_path):
  _, out = joint_run  # datagen and 30 steps through the CLIs (conftest)
  problems = JOINT_PROBLEMS
  evals = [json.loads(l) for l in open(os.path.join(out, "eval.jsonl"))]
  assert sorted(e["problem"] for e in evals) == sorted(problems)
  for e in evals:
    assert math.isfinite(e["loss"]) and e["share_of_steps"] == 1 / 3
  # The loss falls: the last 5 steps of each problem against its first 5.
  losses = {}
  for line in open(os.path.join(out, "train_loss.jsonl")):
    rec = json.loads(line)
    losses.setdefault(rec["problem"], []).append(rec["loss"])
  # (10 steps of each: text falls clearly; the image and speech losses
  # only need to be finite this early.)
  p = "zen_reverse"
  assert np.mean(losses[p][-5:]) < np.mean(losses[p][:5]), losses[p]
  by = {e["problem"]: e for e in evals}
  assert "decoded_bleu" in by["zen_reverse"]
  assert "decoded_accuracy" in by["image_digits"]
  assert "decoded_wer" in by["zen_speech"]
  # One decoder serves each problem of the joint run by name.
  from sklearn.datasets import load_digits
  import tensorflow as tf
  png = tmp_path / "digit.png"
  img = (load_digits().images[0] * 16).clip(0, 255).astype(np.uint8)
  png.write_bytes(tf.io.encode_png(img[:, :, None]).numpy())
  wav = tmp_path / "zen.wav"
  subprocess.run(["espeak-ng", "-w", str(wav), "Simple is better than "
                  "complex."], check=True)
  from t2tlite.decode import decoder
  dec = decoder.Decoder(out, decode_hparams_text="beam_size=2")
  errors = []
  for problem, line in (("zen_reverse", "Flat is better than nested."),
                        ("image_digits", str(png)),
                        ("zen_speech", str(wav))):
    got = dec.decode_lines(problem, [line, "/no/such/file"],
                           report=errors.append)
    assert len(got) == 2 and isinstance(got[0], str)
    if problem == "image_digits":
      assert got[0] in dec.problem(problem).class_names
    if problem != "zen_reverse":  # a path that does not exist: reported
      assert got[1] == "" and errors[-1].startswith("line 2")
  # And through the CLI, in its own process.
  src = tmp_path / "in.txt"
  src.write_text(f"{wav}\n")
  proc = run_cli("t2t_decoder", U, f"--output_dir={out}",
                 "--problem=zen_speech", f"--decode_from_file={src}")
  assert len(proc.stdout.split("\n")) == 2


def test_no_retrace_and_an_untrained_problem_still_evaluates(joint_data,
                                                             tmp_path):
  import t2tlite  # noqa: F401
  from t2tlite import registry
  from t2tlite.train import trainer
  import usr_dir_example  # noqa: F401
  hp = registry.hparams("multimodel_tiny")
  t = trainer.Trainer(["zen_reverse", "image_digits"], "multimodel",
                      "multimodel_tiny", hp, joint_data, str(tmp_path),
                      mixing="weights:zen_reverse=1,image_digits=0")
  results = t.train(25, eval_every=25, eval_steps=2, log_every=25)
  assert t.step_counts == {"zen_reverse": 25, "image_digits": 0}
  assert math.isfinite(results["image_digits"]["loss"])
  assert results["image_digits"]["share_of_steps"] == 0
  # Batches of many shapes went through one trace per problem.
  assert t._train_steps["zen_reverse"].experimental_get_tracing_count() == 1
  t2 = trainer.Trainer(["zen_reverse", "image_digits"], "multimodel",
                       "multimodel_tiny", hp, joint_data, str(tmp_path / "b"))
  t2.train(20, eval_every=20, eval_steps=1, log_every=20)
  for name in ("zen_reverse", "image_digits"):
    assert t2._train_steps[name].experimental_get_tracing_count() == 1
