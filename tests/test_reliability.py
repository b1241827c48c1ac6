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
from t2tlite import registry
from t2tlite.data import text_problem

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


@pytest.fixture
def small_disk(tmp_path):
  """A 6 MiB filesystem of our own (tmpfs: needs root, as CI is)."""
  mnt = tmp_path / "disk"
  mnt.mkdir()
  if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs",
                     str(mnt)], capture_output=True).returncode != 0:
    pytest.fail("cannot mount a tmpfs (run the tests as root)")
  try:
    yield mnt
  finally:
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_is_a_clear_error_and_keeps_the_checkpoint(zen_data,
                                                             small_disk):
  out = str(small_disk / "run")
  run_cli("t2t_trainer", *trainer_args(zen_data, out, 10))
  filler = small_disk / "filler"
  fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
  for chunk in (65536, 1):  # fill the disk to the last byte
    try:
      while True:
        os.write(fd, b"\0" * chunk)
    except OSError:
      pass
  os.close(fd)
  proc = run_cli("t2t_trainer", *trainer_args(zen_data, out, 20),
                 check=False)
  assert proc.returncode == 1, proc.stderr[-2000:]
  assert "disk full" in proc.stderr.splitlines()[-1]
  os.remove(filler)
  again = run_cli("t2t_trainer", *trainer_args(zen_data, out, 20))
  assert "resumed from" in again.stderr and "at step 10" in again.stderr
