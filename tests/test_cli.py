"""The three CLIs end to end on the example user dir, and their errors."""
import json
import os

import pytest

from conftest import USR_DIR, run_cli

U = f"--usr_dir={USR_DIR}"


def one_error_line(proc):
  lines = [l for l in proc.stderr.splitlines() if l.strip()]
  assert proc.returncode == 2, proc.stderr[-2000:]
  assert len(lines) == 1, proc.stderr[-2000:]
  return lines[0]


def test_datagen_wrote_named_shards_and_vocab(zen_data):
  names = os.listdir(zen_data)
  assert "zen_reverse-train-00000-of-00002" in names
  assert "zen_reverse-test-00000-of-00001" in names
  assert "vocab.zen_words.model" in names  # shared with zen_speech
  again = run_cli("t2t_datagen", "--problem=zen_reverse", U,
                  f"--data_dir={zen_data}", f"--tmp_dir={zen_data}/tmp")
  assert "already present" in again.stderr


def test_train_writes_config_eval_and_decodes_in_order(zen_run, tmp_path):
  cfg = json.load(open(os.path.join(zen_run, "t2tlite_run.json")))
  assert cfg["model"] == "transformer" and cfg["problems"] == ["zen_reverse"]
  evals = [json.loads(l) for l in open(os.path.join(zen_run, "eval.jsonl"))]
  assert evals[-1]["step"] == 400 and evals[-1]["accuracy"] > 0.8
  src = tmp_path / "in.txt"
  # An empty line, a line that is not UTF-8, and an absurdly long line.
  src.write_bytes("Simple is better than complex.\n\nFlat is better than "
                  "nested.\n".encode() + b"\xff\xfe bad\n" +
                  ("word " * 5000).encode() + b"\nErrors should never pass "
                  b"silently.\n")
  out = tmp_path / "out.txt"
  proc = run_cli("t2t_decoder", U, f"--output_dir={zen_run}",
                 "--problem=zen_reverse", f"--decode_from_file={src}",
                 f"--decode_to_file={out}", "--decode_hparams=beam_size=2")
  lines = out.read_text().split("\n")[:-1]
  assert len(lines) == 6
  assert lines[0].split()[0] == "complex." and lines[1] == ""
  assert lines[2].split()[0] == "nested." and lines[3] == ""
  assert lines[5].split()[0] == "silently."
  assert "line 4: not UTF-8" in proc.stderr
  assert "line 5: input of" in proc.stderr and "truncated" in proc.stderr


def test_decode_reads_stdin_line_by_line_and_scores_reference(zen_run,
                                                             tmp_path):
  proc = run_cli("t2t_decoder", U, f"--output_dir={zen_run}",
                 "--problem=zen_reverse",
                 stdin="Simple is better than complex.\n\nFlat is better "
                 "than nested.\n")
  out = proc.stdout.splitlines()
  assert len(out) == 3 and out[1] == ""
  assert out[0].startswith("complex.") and out[2].startswith("nested.")
  ref = tmp_path / "ref.txt"
  ref.write_text("complex. than better is Simple\n")
  src = tmp_path / "src.txt"
  src.write_text("Simple is better than complex.\n")
  proc = run_cli("t2t_decoder", U, f"--output_dir={zen_run}",
                 "--problem=zen_reverse", f"--reference={ref}",
                 f"--decode_from_file={src}")
  assert "bleu=" in proc.stdout


def test_resume_continues_at_the_same_step(zen_data, tmp_path):
  out = str(tmp_path / "run")
  args = ["--problem=zen_reverse", U, "--model=transformer",
          "--hparams_set=zen_tiny", f"--data_dir={zen_data}",
          f"--output_dir={out}", "--eval_every=20", "--eval_steps=1",
          "--log_every=10"]
  run_cli("t2t_trainer", *args, "--train_steps=20")
  proc = run_cli("t2t_trainer", *args, "--train_steps=40")
  assert "resumed from" in proc.stderr and "at step 20" in proc.stderr
  steps = [json.loads(l)["step"] for l in open(os.path.join(out,
                                                            "eval.jsonl"))]
  assert steps == [20, 40]
  # A conflicting override on the same output_dir is an error.
  bad = run_cli("t2t_trainer", *args, "--train_steps=60",
                "--hparams=hidden_size=64", check=False)
  assert "hidden_size" in one_error_line(bad)
  # A run from an older release, before a setting existed, still resumes
  # while the setting keeps its default; changing it is an error.
  cfg_path = os.path.join(out, "t2tlite_run.json")
  cfg = json.load(open(cfg_path))
  hp = json.loads(cfg["hparams"])
  for part in ("values", "types"):
    del hp[part]["image_filters_scale"]
  cfg["hparams"] = json.dumps(hp)
  json.dump(cfg, open(cfg_path, "w"))
  proc = run_cli("t2t_trainer", *args, "--train_steps=50")
  assert "at step 40" in proc.stderr
  bad = run_cli("t2t_trainer", *args, "--train_steps=60",
                "--hparams=image_filters_scale=2.0", check=False)
  assert "image_filters_scale" in one_error_line(bad)


@pytest.mark.parametrize("cli,args,needle", [
    ("t2t_trainer", ["--problemz=x"], "Did you mean"),
    ("t2t_trainer", ["--problem=zen_revers", "--model=transformer",
                     "--hparams_set=zen_tiny", "--data_dir=/x",
                     "--output_dir=/y", U], "did you mean zen_reverse"),
    ("t2t_trainer", ["--problem=zen_reverse", "--model=transformr",
                     "--hparams_set=zen_tiny", "--data_dir=/x",
                     "--output_dir=/y", U], "unknown model"),
    ("t2t_trainer", ["--problem=zen_reverse", "--model=transformer",
                     "--hparams_set=zen_tiny", "--hparams=dropout",
                     "--data_dir=/x", "--output_dir=/y", U], "key=value"),
    ("t2t_trainer", ["--problems=a--b", "--model=transformer"],
     "malformed --problems"),
    ("t2t_trainer", ["--problem=zen_reverse", "--model=transformer",
                     "--hparams_set=zen_tiny", "--data_dir=/nonexistent",
                     "--output_dir=/y", U], "t2tlite-datagen --problem="),
    ("t2t_trainer", ["--problem=zen_reverse", "--model=transformer",
                     "--hparams_set=zen_tinyy", "--data_dir=/x",
                     "--output_dir=/y", U], "did you mean zen_tiny"),
    ("t2t_trainer", ["--problem=zen_reverse", "--model=transformer",
                     "--hparams_set=zen_tiny", "--hparams=max_length=big",
                     "--data_dir=/x", "--output_dir=/y", U], "takes a int"),
    ("t2t_datagen", ["--problem=nope", "--data_dir=/tmp/x"],
     "unknown problem"),
    ("t2t_datagen", ["--problem=x", "--data_dir=/tmp/x",
                     "--usr_dir=/does/not/exist"], "is not a directory"),
    ("t2t_decoder", ["--output_dir=/nonexistent", "--problem=x"],
     "no trained model"),
])
def test_bad_input_is_one_line_and_exit_2(cli, args, needle, capsys):
  # In-process (the same code path as the console script, without paying
  # for a TensorFlow start per case); test_usr_dir_import_error_is_shown
  # and the corrupt-shard tests run real subprocesses.
  import importlib
  mod = importlib.import_module(f"t2tlite.bin.{cli}")
  with pytest.raises(SystemExit) as e:
    mod.run([cli] + args)
  err = capsys.readouterr().err
  lines = [l for l in err.splitlines() if l.strip()]
  assert e.value.code == 2 and len(lines) == 1, err
  assert needle in lines[0]


def test_usr_dir_import_error_is_shown(tmp_path):
  bad = tmp_path / "badusr"
  bad.mkdir()
  (bad / "__init__.py").write_text("x = 1\nundefined_name()\n")
  line = one_error_line(run_cli("t2t_datagen", "--problem=x",
                                "--data_dir=/tmp/x", f"--usr_dir={bad}",
                                check=False))
  assert "NameError" in line and "__init__.py:2" in line


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupt_shard_is_named(zen_data, tmp_path, damage):
  import shutil
  data = tmp_path / "data"
  shutil.copytree(zen_data, data)
  shard = data / "zen_reverse-train-00000-of-00002"
  raw = bytearray(shard.read_bytes())
  if damage == "truncate":
    raw = raw[:len(raw) // 2]
  else:
    raw[len(raw) // 2] ^= 0xFF
  shard.write_bytes(bytes(raw))
  proc = run_cli("t2t_trainer", "--problem=zen_reverse", U,
                 "--model=transformer", "--hparams_set=zen_tiny",
                 f"--data_dir={data}", f"--output_dir={tmp_path}/o",
                 "--train_steps=200", "--eval_every=200", check=False)
  line = one_error_line(proc)
  assert "corrupt" in line and "zen_reverse-train-00000" in line


def in_process(cli, args, capsys):
  import importlib
  mod = importlib.import_module(f"t2tlite.bin.{cli}")
  with pytest.raises(SystemExit) as e:
    mod.run([cli] + args)
  err = capsys.readouterr().err
  lines = [l for l in err.splitlines() if l.strip() and
           not l.startswith(("resumed", "saved", "step", "eval"))]
  assert e.value.code == 2, err
  return lines[-1]


def test_errors_that_need_data(zen_data, zen_run, tmp_path, capsys):
  base = ["--problem=zen_reverse", U, f"--data_dir={zen_data}",
          "--train_steps=1"]
  line = in_process("t2t_trainer", base + [
      "--model=transformer", "--hparams_set=zen_tiny", "--mixing=sometimes",
      f"--output_dir={tmp_path}/a"], capsys)
  assert "unknown --mixing=sometimes" in line
  line = in_process("t2t_trainer", base + [
      "--model=transformer", "--hparams_set=zen_tiny",
      "--hparams=max_length=1", f"--output_dir={tmp_path}/b"], capsys)
  assert "every training example is longer than max_length=1" in line
  line = in_process("t2t_trainer", base + [
      "--model=poisonable_transformer_for_cli", "--hparams_set=zen_tiny",
      f"--output_dir={zen_run}"], capsys)
  assert "trained with model 'transformer'" in line


from t2tlite import registry as _registry  # noqa: E402
from t2tlite.models import transformer as _transformer  # noqa: E402

_registry.register_model("poisonable_transformer_for_cli")(
    type("OtherModel", (_transformer.Transformer,), {}))


def test_output_dir_trained_with_another_vocabulary(zen_data, zen_run,
                                                    tmp_path, capsys):
  import shutil
  import usr_dir_example
  from t2tlite import vocab as vocab_lib
  data = tmp_path / "data"
  shutil.copytree(zen_data, data)
  vocab_lib.train_subword_vocab(
      vocab_lib.vocab_path(str(data), "zen_words"),
      usr_dir_example.zen_lines() * 3, 120)
  line = in_process("t2t_trainer", [
      "--problem=zen_reverse", U, f"--data_dir={data}", "--train_steps=400",
      "--model=transformer", "--hparams_set=zen_tiny",
      f"--output_dir={zen_run}"], capsys)
  assert "vocabulary or modality changed" in line
