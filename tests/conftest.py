"""Shared fixtures: the example user dir, and a tiny trained run of it."""
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
