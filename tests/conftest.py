"""Shared fixtures: the example user dir, and a tiny trained run of it."""
import itertools
import os
import subprocess
import sys

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
USR_DIR = os.path.join(TESTS, "usr_dir_example")


def run_cli(name, *args, check=True, stdin=None, timeout=600):
  """Runs a CLI as a user would: a fresh process, its exit code and text."""
  cmd = [sys.executable, "-m", f"t2tlite.bin.{name}"] + list(args)
  proc = subprocess.run(cmd, capture_output=True, text=True, input=stdin,
                        timeout=timeout)
  if check and proc.returncode != 0:
    raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}:\n"
                         f"{proc.stderr[-3000:]}")
  return proc


@pytest.fixture(scope="session")
def zen_data(tmp_path_factory):
  data = tmp_path_factory.mktemp("zen_data")
  run_cli("t2t_datagen", "--problem=zen_reverse", f"--usr_dir={USR_DIR}",
          f"--data_dir={data}", f"--tmp_dir={data}/tmp")
  return str(data)


@pytest.fixture(scope="session")
def zen_run(zen_data, tmp_path_factory):
  out = tmp_path_factory.mktemp("zen_run")
  run_cli("t2t_trainer", "--problem=zen_reverse", f"--usr_dir={USR_DIR}",
          "--model=transformer", "--hparams_set=zen_tiny",
          f"--data_dir={zen_data}", f"--output_dir={out}",
          "--train_steps=400", "--eval_every=200", "--eval_steps=5")
  return str(out)


JOINT_PROBLEMS = ["zen_reverse", "image_digits", "zen_speech"]


@pytest.fixture(scope="session")
def joint_run(tmp_path_factory):
  """(data_dir, output_dir) of a tiny MultiModel trained through the CLIs
  on text, image -> label and audio at once (30 steps, a decoded eval):
  the joint-training and portable-run tests share it."""
  root = tmp_path_factory.mktemp("joint_run")
  data, out = str(root / "data"), str(root / "run")
  run_cli("t2t_datagen", f"--problem={','.join(JOINT_PROBLEMS)}",
          f"--usr_dir={USR_DIR}", f"--data_dir={data}",
          f"--tmp_dir={root}/tmp")
  run_cli("t2t_trainer", f"--problems={'-'.join(JOINT_PROBLEMS)}",
          f"--usr_dir={USR_DIR}", "--model=multimodel",
          "--hparams_set=multimodel_tiny", "--hparams=audio_blocks=3",
          f"--data_dir={data}", f"--output_dir={out}", "--train_steps=30",
          "--eval_every=30", "--eval_steps=2", "--eval_decode=3")
  return data, out


def ctc_brute_force_nll(logits, labels):
  """-log of the sum, over every frame alignment that collapses to
  `labels` (repeats merged, blanks dropped), of its probability."""
  import numpy as np
  from t2tlite.layers import ctc
  logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  total = 0.0
  for path in itertools.product(range(logits.shape[1]),
                                repeat=logits.shape[0]):
    collapsed = [k for k, _ in itertools.groupby(path) if k != ctc.BLANK_ID]
    if collapsed == list(labels):
      total += np.exp(sum(logp[t, k] for t, k in enumerate(path)))
  return -np.log(total)
