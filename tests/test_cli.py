"""The CLIs end to end on the example user dir, and their errors."""
import json
import os
import re

import pytest

from conftest import USR_DIR, run_cli

U = f"--usr_dir={USR_DIR}"
# A log line of the "t2tlite" logger: "2026-12-02 10:01:02 I message".
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [DIWEC] ")


def log_lines(stderr):
  return [l for l in stderr.splitlines() if LOG_LINE.match(l)]


def one_error_line(proc):
  """The one line that is not a (timestamped) log line."""
  lines = [l for l in proc.stderr.splitlines()
           if l.strip() and not LOG_LINE.match(l)]
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
  assert any(re.search(r" I loaded .*ckpt-400$", l)
             for l in log_lines(proc.stderr)), proc.stderr
  lines = out.read_text().split("\n")[:-1]
  assert len(lines) == 6
  assert lines[0].split()[0] == "complex." and lines[1] == ""
  assert lines[2].split()[0] == "nested." and lines[3] == ""
  assert lines[5].split()[0] == "silently."
  assert "line 4: not UTF-8" in proc.stderr
  assert "line 5: input of" in proc.stderr and "truncated" in proc.stderr


def test_decode_reads_stdin_in_batches_and_scores_reference(zen_run,
                                                           tmp_path):
  import usr_dir_example
  zen = usr_dir_example.zen_lines()
  text = "\n".join(zen[:3] + [""] + zen[3:7]) + "\n"
  args = [U, f"--output_dir={zen_run}", "--problem=zen_reverse",
          "--decode_hparams=beam_size=2,batch_size=2"]
  # A pipe is decoded in batches, with progress over the whole input.
  proc = run_cli("t2t_decoder", *args, "--progress_every=0", stdin=text)
  out = proc.stdout.splitlines()
  assert len(out) == 8 and out[3] == ""
  assert out[0].startswith(zen[0].split()[-1])
  assert out[7].startswith(zen[6].split()[-1])
  progress = [l for l in log_lines(proc.stderr) if "decoding zen_reverse" in l]
  assert len(progress) >= 3, proc.stderr
  assert re.search(r"decoding zen_reverse: 2/8 lines \(25%\), .* ETA ",
                   progress[0]), progress
  assert "8/8 lines (100%)" in progress[-1]
  # Line by line (as from a terminal) gives the same lines.
  interactive = run_cli("t2t_decoder", *args, "--decode_interactive",
                        stdin=text)
  assert interactive.stdout == proc.stdout
  assert not [l for l in log_lines(interactive.stderr) if "decoding" in l]
  # T2T's names of --reference and --checkpoint; BLEU with its signature.
  ref = tmp_path / "ref.txt"
  ref.write_text("complex. than better is Simple\n")
  src = tmp_path / "src.txt"
  src.write_text("Simple is better than complex.\n")
  proc = run_cli("t2t_decoder", U, f"--output_dir={zen_run}",
                 "--problem=zen_reverse", f"--decode_reference={ref}",
                 f"--checkpoint_path={zen_run}/ckpt-200",
                 f"--decode_from_file={src}")
  assert f"loaded {zen_run}/ckpt-200" in proc.stderr
  score = proc.stdout.splitlines()[-1]
  assert re.fullmatch(r"bleu=\d+(\.\d{1,4})? sacrebleu_signature=nrefs:1\|"
                      r"case:mixed\|eff:no\|tok:13a\|smooth:exp\|"
                      r"version:[\d.]+", score), score


def test_decode_split_prints_rounded_metrics_and_progress(zen_run):
  proc = run_cli("t2t_decoder", U, f"--output_dir={zen_run}",
                 "--problem=zen_reverse", "--decode_split=test",
                 "--decode_hparams=beam_size=1,batch_size=2",
                 "--progress_every=0")
  row = [l for l in proc.stdout.splitlines()
         if l.startswith("| zen_reverse |")]
  assert len(row) == 1
  assert re.fullmatch(r"\| zen_reverse \| 5 \| bleu \d+(\.\d{1,4})? \|",
                      row[0]), row
  assert re.search(r"^BLEU \(zen_reverse\): sacreBLEU signature "
                   r"nrefs:1\|case:mixed\|.*version:", proc.stdout, re.M)
  progress = [l for l in log_lines(proc.stderr)
              if "decoding zen_reverse test:" in l]
  assert [re.search(r"(\d+)/5 examples", l).group(1) for l in progress] == [
      "2", "4", "5"], proc.stderr


def test_metrics_are_printed_rounded():
  from t2tlite.bin import cli
  assert cli.format_metrics({"accuracy": 0.6566666666666666, "bleu": 23.41,
                             "wer": 100.0, "n": 7}) == (
                                 "accuracy 0.6567, bleu 23.41, wer 100, n 7")
  assert cli.format_metrics({"a": 1 / 3}, sep="=", joiner=" ") == "a=0.3333"
  hyps, refs = ["the cat sat on the mat"], ["the cat sat on a mat"]
  import sacrebleu
  bleu = round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2)
  assert cli.bleu_signature({"bleu": bleu}, hyps, refs).startswith(
      "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:")
  # A BLEU computed some other way gets no signature.
  assert cli.bleu_signature({"bleu": bleu + 5}, hyps, refs) is None
  from t2tlite.train.summaries import format_duration as duration
  assert duration(3725) == "1h02m" and duration(185) == "3m05s"


def test_resume_continues_at_the_same_step(zen_data, tmp_path):
  out = str(tmp_path / "run")
  args = ["--problem=zen_reverse", U, "--model=transformer",
          "--hparams_set=zen_tiny", f"--data_dir={zen_data}",
          f"--output_dir={out}", "--eval_every=20", "--eval_steps=1",
          "--log_every=10"]
  first = run_cli("t2t_trainer", *args, "--train_steps=20")
  logged = [LOG_LINE.sub("", l) for l in log_lines(first.stderr)]
  assert "building the model on 1 problem (zen_reverse)..." in logged
  assert "tracing the train step of zen_reverse..." in logged
  steps = [l for l in logged if l.startswith("step ")]
  assert [l.split(":")[0] for l in steps] == ["step 10/20", "step 20/20"]
  assert all(re.search(r", [\d.]+ steps/s, .*, ETA (\d+h\d\dm|\d+m\d\ds|\d+s),",
                       l) for l in steps), steps
  assert steps[-1].count("ETA 0s") == 1
  proc = run_cli("t2t_trainer", *args, "--train_steps=40")
  assert "resumed from" in proc.stderr and "at step 20" in proc.stderr
  assert any(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d I resumed from ", l)
             for l in proc.stderr.splitlines()), proc.stderr
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
    ("t2t_trainer", ["--problems=translate_ende-translate_ende_ddtp",
                     "--model=transformer", "--hparams_set=zen_tiny",
                     "--data_dir=/x", "--output_dir=/y"],
     "translate_ende and translate_ende_ddtp are one problem"),
    ("t2t_decoder", ["--output_dir=/y", "--problem=x", "--decode_limit=many"],
     "--help lists the flags"),
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
           not LOG_LINE.match(l)]
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
      "--model=transformer", "--hparams_set=zen_tiny",
      "--hparams=learning_rate_schedule=linear_decay,"
      "learning_rate_decay_steps=30", f"--output_dir={tmp_path}/c"], capsys)
  assert "learning_rate_decay_steps=30, but train_steps=1" in line
  assert not os.path.exists(f"{tmp_path}/c/ckpt-1.index")
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
  from t2tlite.data import vocab as vocab_lib
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


# --- absl behaviour: help, flags, aliases ----------------------------------------
CLIS = ["t2t_datagen", "t2t_trainer", "t2t_decoder", "t2t_experiment",
        "t2t_exporter", "t2t_serve", "t2t_avg_checkpoints"]


def cli_module(name):
  import importlib
  return importlib.import_module(f"t2tlite.bin.{name}")


def entry_point(name):
  """The installed console script (setup.py's entry points)."""
  import sys
  prog = cli_module(name).PROG
  path = os.path.join(os.path.dirname(sys.executable), prog)
  assert os.path.exists(path), f"{prog} is not installed (pip install -e .)"
  return path


def test_setup_py_entry_points_are_the_seven_clis():
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  text = open(os.path.join(root, "setup.py")).read()
  points = re.findall(r'"(t2tlite-[\w-]+)=t2tlite\.bin\.(\w+):run"', text)
  assert sorted(m for _, m in points) == sorted(CLIS)
  assert all(cli_module(m).PROG == p for p, m in points)


@pytest.mark.parametrize("name", CLIS)
def test_help_through_the_entry_point(name):
  import subprocess
  mod = cli_module(name)
  proc = subprocess.run([entry_point(name), "--help"], capture_output=True,
                        text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.startswith(f"usage: {mod.PROG} [flags]\n")
  from t2tlite.bin import cli
  for flag_name, _ in cli.defined_flags(mod.FV):
    assert f"--{flag_name}:" in proc.stdout or (
        f"--[no]{flag_name}:" in proc.stdout), flag_name
  assert "Unknown command line flag" not in proc.stderr


def test_every_help_flag_of_the_decoder_as_a_user_types_it():
  import subprocess
  exe = entry_point("t2t_decoder")
  outs = {}
  # Help wins over the other flags, even unknown or missing ones.
  for flag in ("-h", "--helpshort", "--helpfull", "-?"):
    proc = subprocess.run([exe, "--problem=x", flag, "--no_such_flag"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (flag, proc.stderr[-2000:])
    assert "--decode_from_file:" in proc.stdout and (
        "--checkpoint_path: Alias for --checkpoint." in proc.stdout), flag
    outs[flag] = proc.stdout
  assert outs["-h"] == outs["--helpshort"] == outs["-?"]
  assert "--flagfile:" in outs["--helpfull"] and "--undefok:" in (
      outs["--helpfull"])
  assert "--flagfile:" not in outs["-h"]
  # Through `python -m` too.
  proc = run_cli("t2t_decoder", "--help")
  assert proc.stdout == outs["-h"]


@pytest.mark.parametrize("name", CLIS)
@pytest.mark.parametrize("flag", ["--help", "-h", "--helpshort", "-?",
                                  "--helpfull"])
def test_help_in_process(name, flag, capsys):
  mod = cli_module(name)
  with pytest.raises(SystemExit) as e:
    mod.run([mod.PROG, flag])
  out = capsys.readouterr()
  assert e.value.code == 0, out.err
  assert out.out.startswith(f"usage: {mod.PROG} [flags]")
  assert mod.__doc__.split(":")[1].split()[0] in out.out  # its own summary
  assert "--usr_dir:" in out.out and "-h,--[no]help:" in out.out
  assert ("--flagfile:" in out.out) == (flag == "--helpfull")


def _is_sentence(text):
  text = re.sub(r"^<[^>]*>: ", "", text)  # an enum's values come first
  return (len(text.split()) >= 4 and text[0].isupper() and
          text.rstrip().endswith((".", ")")))


def _alias_of(flag, fv):
  """The flag an absl alias (flags.DEFINE_alias) stands for, else None."""
  m = re.fullmatch(r"Alias for --(\w+)\.", flag.help or "")
  return m and m.group(1) in fv and m.group(1)


@pytest.mark.parametrize("name", CLIS)
def test_every_flag_has_a_help_sentence(name):
  from t2tlite.bin import cli
  mod = cli_module(name)
  flags = cli.defined_flags(mod.FV)
  assert len(flags) > 6
  for flag_name, flag in flags:
    assert flag.help and flag.help.strip(), flag_name
    target = _alias_of(flag, mod.FV)
    if target:  # its target's help explains it
      flag = mod.FV[target]
    assert _is_sentence(flag.help), (flag_name, flag.help)


def test_readme_flags_are_explained_in_help():
  from t2tlite.bin import cli
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
  mentioned = set(re.findall(r"--([a-z][a-z0-9_]+)", readme)) | {
      "eval_every", "keep_checkpoints", "distribution", "checkpoint",
      "decode_limit"}
  defined = {}
  for name in CLIS:
    mod = cli_module(name)
    for flag_name, flag in cli.defined_flags(mod.FV):
      defined.setdefault(flag_name, []).append((mod.PROG, flag))
  for flag_name in mentioned & set(defined):
    for prog, flag in defined[flag_name]:
      fv = cli_module(CLIS[[cli_module(m).PROG for m in CLIS].index(prog)]).FV
      flag = fv[_alias_of(flag, fv) or flag_name]
      # A real sentence: several words, not just a noun phrase.
      assert _is_sentence(flag.help) and len(flag.help.split()) >= 7, (
          prog, flag_name, flag.help)
  for flag_name in ("eval_every", "keep_checkpoints", "distribution",
                    "checkpoint", "decode_limit"):
    assert flag_name in defined, flag_name


def test_t2t_flag_aliases_of_the_decoder():
  mod = cli_module("t2t_decoder")
  fv = mod.FV
  fv.unparse_flags()
  try:
    fv([mod.PROG, "--decode_reference=r.txt", "--checkpoint_path=c/ckpt-5"])
    assert fv.reference == "r.txt" and fv.checkpoint == "c/ckpt-5"
  finally:
    fv.unparse_flags()
