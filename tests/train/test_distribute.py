"""Distributed training: two mirrored devices and two worker processes on
127.0.0.1 train like one device on the same global batches; a job whose
worker was killed resumes from the last checkpoint; each worker reads its
own shard files; only the chief writes; bad cluster settings are errors."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import tensorflow as tf

import t2tlite  # noqa: F401
from t2tlite.data import data_io, text_problem
from t2tlite.train import distribute, mixing, seeding
from t2tlite import registry
from t2tlite.train import trainer
from t2tlite.models import transformer

from conftest import USR_DIR, run_cli

# zen_reverse's data as a fixed cycle of global batches, whatever the number
# of replicas: with R replicas in all (batch_size divided by R), replica r
# gets rows r::R of each global batch. Real problems' batches differ with R
# (bucketing by tokens); this one makes "the same global batch" exact.
SPLIT_PROBLEM = '''
import numpy as np
import tensorflow as tf
from t2tlite import registry
from t2tlite.data import pipeline
from t2tlite.data import text_problem

ROWS, BATCHES, GLOBAL_TOKENS = 8, 4, 1024
registry.register_task_token("to_en_reversed")


@registry.register_problem
class ZenSplit(text_problem.Text2TextProblem):
  source_lang, target_lang = "en", "en_reversed"
  vocab_name = "zen_words"
  shares_data_of = "zen_reverse"


_batched = pipeline.batched


def split_batched(problem, data_dir, split, hparams, training, seed=0,
                  shard=(1, 0)):
  """pipeline.batched, but zen_split's training batches are the fixed cycle
  above (installed below: the trainer reads batches through it)."""
  if not (isinstance(problem, ZenSplit) and training):
    return _batched(problem, data_dir, split, hparams, training, seed, shard)
  replicas = GLOBAL_TOKENS // hparams.batch_size
  workers, worker = shard
  local = replicas // workers
  examples = list(pipeline.dataset(problem, data_dir, split, hparams,
                                   False).take(
      ROWS * BATCHES).as_numpy_iterator())
  parts = {"inputs": [], "targets": []}
  for b in range(BATCHES):  # one element per local replica, in order
    rows = examples[b * ROWS:(b + 1) * ROWS]
    for r in range(worker * local, (worker + 1) * local):
      for k in parts:
        parts[k].append([ex[k] for ex in rows[r::replicas]])
  width = max(len(x) for k in parts for p in parts[k] for x in p)
  pad = lambda p: [np.pad(x, (0, width - len(x))) for x in p]
  ds = tf.data.Dataset.from_tensor_slices(
      {k: np.array([pad(p) for p in v]) for k, v in parts.items()})

  def trim(batch):  # each part padded to its own longest row
    out = {}
    for k, x in batch.items():
      n = tf.reduce_max(tf.reduce_sum(tf.cast(x != 0, tf.int32), 1))
      out[k] = x[:, :n]
    return out

  return ds.map(trim).repeat()


pipeline.batched = split_batched
'''

# Two logical CPUs, set before `import t2tlite` starts TensorFlow's devices.
MIRRORED_MAIN = '''
import sys
import tensorflow as tf
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0],
    [tf.config.LogicalDeviceConfiguration()] * 2)
from t2tlite.bin import t2t_trainer
t2t_trainer.run(sys.argv)
'''

STEPS = 30
# Measured: the largest relative difference of a step's loss over the 30
# steps was 1.3e-7 (mirrored) and 2.2e-7 (two workers): summation order.
TOLERANCE = dict(rel=1e-5, abs=1e-6)


@pytest.fixture(scope="module")
def split_usr(tmp_path_factory):
  usr = tmp_path_factory.mktemp("split") / "zen_split_usr"
  usr.mkdir()
  (usr / "__init__.py").write_text(SPLIT_PROBLEM)
  return str(usr)


def env():
  return dict(os.environ, T2TLITE_DETERMINISTIC="1", CUDA_VISIBLE_DEVICES="")


def trainer_args(usr, data, out, *extra):
  return ["--problem=zen_split", f"--usr_dir={usr}", "--model=transformer",
          "--hparams_set=transformer_tiny",
          "--hparams=batch_size=1024,learning_rate=0.01",
          f"--data_dir={data}", f"--output_dir={out}",
          f"--train_steps={STEPS}", "--eval_every=10", "--eval_steps=1",
          "--log_every=10", *extra]


def losses(out):
  """Last logged loss of each step (a resumed run re-logs redone steps)."""
  by_step = {}
  for line in open(os.path.join(out, "train_loss.jsonl")):
    rec = json.loads(line)
    by_step[rec["step"]] = rec["loss"]
  return by_step


def logged_steps(out):
  path = os.path.join(out, "train_loss.jsonl")
  if not os.path.exists(path):
    return []
  return [json.loads(l)["step"] for l in open(path) if l.endswith("\n")]


@pytest.fixture(scope="module")
def one_device(split_usr, zen_data, tmp_path_factory):
  out = str(tmp_path_factory.mktemp("one_device"))
  subprocess.run([sys.executable, "-m", "t2tlite.bin.t2t_trainer"] +
                 trainer_args(split_usr, zen_data, out), env=env(),
                 check=True, capture_output=True, timeout=300)
  return losses(out)


def assert_same_losses(got, want):
  assert sorted(got) == sorted(want) == list(range(1, STEPS + 1))
  for step in want:
    assert got[step] == pytest.approx(want[step], **TOLERANCE), step
  assert want[STEPS] < want[1] - 0.5  # it trained


def test_two_mirrored_devices_train_like_one(split_usr, zen_data, one_device,
                                             tmp_path):
  out = str(tmp_path / "mirrored")
  proc = subprocess.run(
      [sys.executable, "-c", MIRRORED_MAIN] + trainer_args(
          split_usr, zen_data, out, "--distribution=mirrored",
          "--devices=/cpu:0,/cpu:1"),
      env=env(), capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "mirrored training on 2 device(s)" in proc.stderr
  assert_same_losses(losses(out), one_device)


def free_ports(n):
  socks = [socket.socket() for _ in range(n)]
  try:
    for s in socks:
      s.bind(("127.0.0.1", 0))
    return [s.getsockname()[1] for s in socks]
  finally:
    for s in socks:
      s.close()


def start_workers(usr, data, out, logs):
  hosts = ",".join(f"127.0.0.1:{p}" for p in free_ports(2))
  procs = []
  for i in range(2):
    args = trainer_args(usr, data, out, "--distribution=multi_worker",
                        f"--worker_hosts={hosts}", f"--task_index={i}")
    procs.append(subprocess.Popen(
        [sys.executable, "-m", "t2tlite.bin.t2t_trainer"] + args, env=env(),
        stdout=subprocess.DEVNULL, stderr=open(logs[i], "w")))
  return procs


def test_two_workers_train_like_one_and_resume_after_a_kill(
    split_usr, zen_data, one_device, tmp_path):
  out = str(tmp_path / "workers")
  logs = [str(tmp_path / f"worker{i}.log") for i in range(2)]
  procs = start_workers(split_usr, zen_data, out, logs)
  try:
    deadline = time.time() + 240
    while time.time() < deadline and max(logged_steps(out) or [0]) < 13:
      assert all(p.poll() is None for p in procs), open(logs[0]).read()[-3000:]
      time.sleep(0.05)
    procs[1].send_signal(signal.SIGKILL)
    # The chief notices at its next all-reduce and stops with one line.
    assert procs[0].wait(timeout=120) == 1
    chief_err = open(logs[0]).read()
    assert "lost contact with another worker" in chief_err, chief_err[-3000:]
    first = logged_steps(out)
    assert first == list(range(1, len(first) + 1))  # one writer: the chief
    assert len(first) < STEPS, "the run finished before it was killed"
    saved = int(tf.train.latest_checkpoint(out).rsplit("-", 1)[1])
    assert saved >= 10
    procs = start_workers(split_usr, zen_data, out, logs)
    for p in procs:
      assert p.wait(timeout=240) == 0, open(logs[0]).read()[-3000:]
  finally:
    for p in procs:
      if p.poll() is None:
        p.kill()
        p.wait()
  for log in logs:
    assert f"ckpt-{saved} at step {saved}" in open(log).read()
  assert logged_steps(out) == first + list(range(saved + 1, STEPS + 1))
  assert_same_losses(losses(out), one_device)
  names = os.listdir(out)
  assert "eval.jsonl" in names and f"ckpt-{STEPS}.index" in names


POISON = tf.Variable(False, trainable=False)


@registry.register_model("poisonable_transformer_for_distribute")
class Poisonable(transformer.Transformer):
  """NaN logits while POISON is set (a fault we inject)."""

  def call(self, features, problem=None, training=False):
    logits, aux = super().call(features, problem=problem, training=training)
    bad = tf.where(POISON, float("nan"), 0.0)
    return logits + tf.cast(bad, logits.dtype), aux


def test_a_strategy_step_equals_the_plain_step_and_skips_nonfinite(
    zen_data, tmp_path):
  import usr_dir_example  # noqa: F401  pylint: disable=import-outside-toplevel
  hp = registry.hparams("zen_tiny").replace(max_nonfinite_steps=2)
  POISON.assign(False)
  name = "poisonable_transformer_for_distribute"
  seeding.seed_everything(hp.seed)  # both start from the same weights
  plain = trainer.Trainer(["zen_reverse"], name, "zen_tiny", hp, zen_data,
                          str(tmp_path / "plain"))
  plain.train(6, eval_every=100, eval_steps=1, log_every=100)
  strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
  seeding.seed_everything(hp.seed)
  t = trainer.Trainer(["zen_reverse"], name, "zen_tiny", hp, zen_data,
                      str(tmp_path / "mirrored"), strategy=strategy)
  assert t.placement == distribute.Placement(1, 0, True, 1)
  t.train(6, eval_every=100, eval_steps=1, log_every=100)
  assert [l for _, _, l in t.history] == pytest.approx(
      [l for _, _, l in plain.history], rel=1e-5)
  before = [v.numpy().copy() for v in t.model.trainable_variables]
  POISON.assign(True)
  try:
    t.train(7, eval_every=100, eval_steps=1, log_every=100)
    assert t.skipped_updates == 1
    assert all((a == v.numpy()).all() for a, v in
               zip(before, t.model.trainable_variables))
    with pytest.raises(trainer.TrainingError, match="2 non-finite"):
      t.train(20, eval_every=100, eval_steps=1, log_every=100)
  finally:
    POISON.assign(False)


class Numbers(text_problem.Text2TextProblem):
  _registered_name = "numbers"
  num_shards = {"train": 4}


def test_each_worker_reads_its_own_shard_files(tmp_path):
  data = str(tmp_path)
  data_io.write_split(({"inputs": [i + 2, 1], "targets": [i + 2, 1]}
                       for i in range(40)), data, "numbers", "train", 4)
  p = Numbers()
  hp = distribute.per_replica_hparams(
      registry.hparams("transformer_tiny").replace(batch_size=32), 2)
  assert hp.batch_size == 16  # 2 examples of length <= 8 per batch

  def ids(worker, skip=0, replicas=2, batches=4):
    ctx = tf.distribute.InputContext(2, worker, replicas)
    ds = distribute.worker_dataset(p, data, hp, 7, skip, ctx)
    return [sorted(int(x) - 2 for x in b["inputs"][:, 0])
            for b in ds.take(batches).as_numpy_iterator()]

  seen = [sum(ids(w), []) for w in (0, 1)]
  assert not set(seen[0]) & set(seen[1])
  # Examples were written round-robin: example i is in file i % 4.
  files = [{i % 4 for i in s} for s in seen]
  assert len(files[0]) == len(files[1]) == 2 and files[0] | files[1] == {
      0, 1, 2, 3}
  # Skipping ahead resumes the stream: one batch per local replica a step.
  assert ids(0, skip=1, batches=3) == ids(0)[1:]
  assert ids(1, skip=1, replicas=4, batches=2) == ids(1)[2:]
  with pytest.raises(data_io.DataError, match="4 train shard file"):
    distribute.check_shards(p, data, 5)
  mixer = mixing.parse("weights:a=3,b=1", ["a", "b"])
  counts = distribute.steps_per_problem(mixer, ["a", "b"], 50)
  assert counts == {n: sum(mixer.choose(s) == n for s in range(50))
                    for n in "ab"} and counts["a"] > counts["b"] > 0


def test_global_batch_hparams_are_divided_among_replicas():
  hp = registry.hparams("transformer_tiny")
  hp2 = distribute.per_replica_hparams(hp, 4)
  assert hp2.batch_size == hp.batch_size // 4
  assert hp2.image_batch_size == hp.image_batch_size // 4
  assert hp2.audio_batch_frames == 0  # 0: derived from batch_size
  with pytest.raises(distribute.DistributeError, match="cannot be split"):
    distribute.per_replica_hparams(hp.replace(image_batch_size=2), 4)


def test_cluster_from_flags_or_tf_config():
  cfg = distribute.tf_config("10.0.0.1:2222,10.0.0.2:2222", 1)
  assert cfg == {"cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]},
                 "task": {"type": "worker", "index": 1}}
  assert distribute.position(cfg) == (2, 1, False)
  for hosts, index, message in (("a:1,b:2", None, "needs --task_index"),
                                ("a:1,b:2", 2, "out of range"),
                                ("a:1,b", 0, "malformed worker address"),
                                ("a:1,a:1", 0, "twice")):
    with pytest.raises(distribute.DistributeError, match=message):
      distribute.tf_config(hosts, index)
  with_chief = {"cluster": {"chief": ["c:1"], "worker": ["w:1", "w:2"]},
                "task": {"type": "worker", "index": 0}}
  got = distribute.cluster_config(environ={"TF_CONFIG": json.dumps(
      with_chief)})
  assert distribute.position(got) == (3, 1, False)
  assert distribute.position(dict(got, task={"type": "chief", "index": 0})
                             ) == (3, 0, True)
  # The flags win over TF_CONFIG; without either there is no cluster.
  assert distribute.cluster_config("a:1,b:2", 0, {"TF_CONFIG": json.dumps(
      with_chief)})["task"] == {"type": "worker", "index": 0}
  with pytest.raises(distribute.DistributeError, match="TF_CONFIG"):
    distribute.cluster_config(environ={})
  evaluator = dict(with_chief, task={"type": "evaluator", "index": 0})
  with pytest.raises(distribute.DistributeError, match="evaluator"):
    distribute.cluster_config(environ={"TF_CONFIG": json.dumps(evaluator)})
  with pytest.raises(distribute.DistributeError, match="need --distrib"):
    distribute.create_strategy("", "a:1,b:2", 0)
  assert distribute.create_strategy("") is None
  assert distribute.placement(None) == distribute.ONE_DEVICE


def test_cli_reports_a_bad_cluster_in_one_line(zen_data, tmp_path):
  proc = run_cli("t2t_trainer", "--problem=zen_reverse", f"--usr_dir={USR_DIR}",
                 "--model=transformer", "--hparams_set=zen_tiny",
                 f"--data_dir={zen_data}", f"--output_dir={tmp_path}",
                 "--distribution=multi_worker", "--task_index=0",
                 "--worker_hosts=127.0.0.1:1,127.0.0.1", check=False)
  assert proc.returncode == 2
  assert proc.stderr.strip().splitlines() == [
      "t2tlite-trainer: error: malformed worker address '127.0.0.1': "
      "expected host:port"]
