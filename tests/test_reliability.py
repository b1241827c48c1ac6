"""Crash safety: kill -9 and resume, broken checkpoints, non-finite losses,
and datagen interrupted at any point."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import USR_DIR, run_cli

U = f"--usr_dir={USR_DIR}"


def losses(out):
  """Last logged loss of each step (a resumed run re-logs redone steps)."""
  by_step = {}
  for line in open(os.path.join(out, "train_loss.jsonl")):
    rec = json.loads(line)
    by_step[rec["step"]] = rec["loss"]
  return by_step


def trainer_args(data, out, steps):
  return ["--problem=zen_reverse", U, "--model=transformer",
          "--hparams_set=zen_tiny", "--hparams=dropout=0.2",
          f"--data_dir={data}", f"--output_dir={out}",
          f"--train_steps={steps}", "--eval_every=10", "--eval_steps=1",
          "--log_every=10"]


def test_kill_9_then_resume_gives_the_same_losses(zen_data, tmp_path):
  env = dict(os.environ, T2TLITE_DETERMINISTIC="1")
  ref = str(tmp_path / "ref")
  subprocess.run([sys.executable, "-m", "t2tlite.bin.t2t_trainer"] +
                 trainer_args(zen_data, ref, 40), env=env, check=True,
                 capture_output=True)
  out = str(tmp_path / "killed")
  proc = subprocess.Popen([sys.executable, "-m", "t2tlite.bin.t2t_trainer"] +
                          trainer_args(zen_data, out, 40), env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  log = os.path.join(out, "train_loss.jsonl")
  deadline = time.time() + 300
  while time.time() < deadline:
    if os.path.exists(log) and max(losses(out) or [0]) >= 25:
      break
    time.sleep(0.05)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  assert max(losses(out)) < 40, "the run finished before it was killed"
  resumed = subprocess.run(
      [sys.executable, "-m", "t2tlite.bin.t2t_trainer"] +
      trainer_args(zen_data, out, 40), env=env, capture_output=True,
      text=True, check=True)
  assert "resumed from" in resumed.stderr
  a, b = losses(ref), losses(out)
  assert sorted(a) == sorted(b) == list(range(1, 41))
  # Deterministic ops on one CPU: the same floats up to summation order.
  for step in range(1, 41):
    assert b[step] == pytest.approx(a[step], rel=1e-5, abs=1e-6), step


def test_corrupt_latest_checkpoint_falls_back(zen_data, tmp_path):
  out = str(tmp_path / "run")
  run_cli("t2t_trainer", *trainer_args(zen_data, out, 20))
  data_file = [f for f in os.listdir(out) if f.startswith("ckpt-20.data")][0]
  with open(os.path.join(out, data_file), "r+b") as f:
    f.truncate(100)
  proc = run_cli("t2t_trainer", *trainer_args(zen_data, out, 30))
  assert "ckpt-20 is unreadable" in proc.stderr
  assert "resumed from" in proc.stderr and "at step 10" in proc.stderr


SLOW_PROBLEM = '''
import time
from t2tlite import registry, text_problem

@registry.register_problem
class SlowCount(text_problem.Text2TextProblem):
  source_lang, target_lang = "en", "en"
  vocab_size = 60
  num_shards = {"train": 3, "dev": 1, "test": 1}

  def text_pairs(self, tmp_dir, split):
    n = {"train": 400, "dev": 40, "test": 40}[split]
    for i in range(n):
      time.sleep(0.005)
      words = ["one", "two", "three", "four", "five"][: 1 + i % 5]
      yield " ".join(words), " ".join(reversed(words)) + f" {i % 7}"
'''


def test_datagen_killed_anywhere_then_rerun_is_identical(tmp_path):
  usr = tmp_path / "slowusr"
  usr.mkdir()
  (usr / "__init__.py").write_text(SLOW_PROBLEM)
  args = ["--problem=slow_count", f"--usr_dir={usr}"]
  clean = tmp_path / "clean"
  run_cli("t2t_datagen", *args, f"--data_dir={clean}", f"--tmp_dir={clean}")
  for delay in (1.0, 4.0):
    d = tmp_path / f"killed{delay}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "t2tlite.bin.t2t_datagen", *args,
         f"--data_dir={d}", f"--tmp_dir={d}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    run_cli("t2t_datagen", *args, f"--data_dir={d}", f"--tmp_dir={d}")
    for split in ("train", "dev", "test"):
      want = json.load(open(clean / f"slow_count-{split}.meta.json"))
      got = json.load(open(d / f"slow_count-{split}.meta.json"))
      assert (got["examples"], got["sha256"]) == (want["examples"],
                                                  want["sha256"])
    assert not [n for n in os.listdir(d) if n.endswith(".incomplete")]
