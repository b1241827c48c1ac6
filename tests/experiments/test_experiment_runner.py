"""The experiment runner: its plan, committed runs, training through a
train_fn, and the report."""
import json
import os
import re

import numpy as np
import pytest

import t2tlite  # noqa: F401
from t2tlite.experiments import report
from t2tlite import experiments
from t2tlite import registry
from t2tlite.data import problem as problem_lib
from t2tlite.data import text_problem

from conftest import USR_DIR

PROBLEMS = ["translate_ende_ddtp", "image_fashion_mnist", "speech_tts_en",
            "parsing_english_silver", "image_caption_tuxpaint"]


# --- the plan -----------------------------------------------------------------
def test_joint_vs_single_trains_each_problem_alone_and_all_together():
  problems = PROBLEMS + ["translate_ende_ddtp_rev"]
  runs = experiments.experiment_runs("joint_vs_single", problems)
  assert [r["problems"] for r in runs[:-1]] == [[p] for p in problems]
  assert runs[-1]["name"] == "joint"
  assert runs[-1]["problems"] == problems
  assert runs[-2]["name"] == "single_translate_ende_ddtp_rev"


def test_ablations_switch_one_thing_each_on_translation_images_speech():
  runs = experiments.experiment_runs("ablations", PROBLEMS)
  assert all(r["problems"] == ["translate_ende_ddtp", "image_fashion_mnist",
                               "speech_tts_en"] for r in runs)
  assert [r["hparams"] for r in runs] == [
      {}, {"use_moe": False}, {"decoder_attention": False},
      {"encoder_self_attention": True}]


def test_parsing_transfer_adds_images_then_everything():
  runs = experiments.experiment_runs("parsing_transfer", PROBLEMS)
  assert [r["problems"] for r in runs] == [
      ["parsing_english_silver"],
      ["parsing_english_silver", "image_fashion_mnist"],
      ["parsing_english_silver", "translate_ende_ddtp", "image_fashion_mnist",
       "speech_tts_en", "image_caption_tuxpaint"]]


def test_unknown_experiment_is_refused():
  with pytest.raises(ValueError, match="unknown experiment"):
    experiments.experiment_runs("joint_vs_everything", PROBLEMS)


@pytest.fixture
def odd_names():
  """Problems whose names say nothing (or the wrong thing) of what they
  are: a treebank, pictures to labels, clips to text, text to text, and a
  text problem named like a parser."""

  class Tree(text_problem.Text2TextProblem):
    metrics = ("labelled_f1", "exact_match")

  class Pictures(problem_lib.Problem):
    input_modality, target_modality = "image", "class_label"

  class Clips(problem_lib.Problem):
    input_modality, target_modality = "audio_waveform", "text"
    metrics = ("wer", "cer")

  class Words(text_problem.Text2TextProblem):
    pass

  names = {"zz_treebank": Tree, "zz_pictures": Pictures, "zz_clips": Clips,
           "zz_words": Words, "parsing_lookalike_words": Words}
  for name, cls in names.items():
    registry.register_problem(name)(type(name, (cls,), {}))
  try:
    yield list(names)
  finally:
    for name in names:
      registry.problems.unregister(name)


def test_problems_are_chosen_by_their_attributes_not_names(odd_names):
  kinds = experiments.problem_kinds(odd_names + ["zz_words_rev"])
  assert kinds == {"zz_treebank": "parsing",
                   "zz_pictures": "image_classification",
                   "zz_clips": "speech", "zz_words": "translation",
                   "parsing_lookalike_words": "translation",
                   "zz_words_rev": "translation"}
  runs = experiments.experiment_runs("parsing_transfer", odd_names)
  assert runs[0]["problems"] == ["zz_treebank"]
  assert runs[1]["problems"] == ["zz_treebank", "zz_pictures"]
  ablations = experiments.experiment_runs("ablations", odd_names)
  assert ablations[0]["problems"] == ["zz_pictures", "zz_clips", "zz_words",
                                      "parsing_lookalike_words"]
  # The built-ins too: a caption problem is not image classification.
  assert experiments.problem_kinds(["image_caption_tuxpaint",
                                    "parsing_english_silver"]) == {
      "image_caption_tuxpaint": "caption",
      "parsing_english_silver": "parsing"}


def test_inverse_size_mixing_favours_the_smallest_problems(tmp_path):
  from t2tlite.train import mixing
  sizes = {"a": 100, "b": 300, "c": 600}
  w = experiments.inverse_size_weights(sizes)
  assert w == pytest.approx({"a": 6 / 9, "b": 2 / 9, "c": 1 / 9})
  assert sum(w.values()) == pytest.approx(1.0)
  runs = experiments.experiment_runs("mixing", list(sizes),
                                     {p: "other" for p in sizes}, sizes)
  assert [r["mixing"] for r in runs[:3]] == ["round_robin", "proportional",
                                             "temperature:2"]
  spec = runs[3]["mixing"]
  assert runs[3]["name"] == "mixing_inverse_size"
  assert spec.startswith("weights:a=0.666667,")
  rates = mixing.parse(spec, list(sizes)).rates
  np.testing.assert_allclose(rates, [6 / 9, 2 / 9, 1 / 9], rtol=1e-5)
  with pytest.raises(ValueError, match="unknown for b"):
    experiments.inverse_size_weights({"a": 10, "b": None})
  # Sizes come from datagen's meta files (a _rev problem reads its base's).
  for split_name, n in (("translate_ende_ddtp", 40), ("image_digits", 10)):
    (tmp_path / f"{split_name}-train.meta.json").write_text(
        json.dumps({"examples": n}))
  assert experiments.train_sizes(
      ["translate_ende_ddtp_rev", "image_digits"], str(tmp_path)) == {
          "translate_ende_ddtp_rev": 40, "image_digits": 10}


# --- committed runs and training ----------------------------------------------
def _accuracy(hyps, refs):
  return {"accuracy": float(np.mean([h == r for h, r in zip(hyps, refs)]))}


def _result(run, problems, hyps, refs, seed=1, mixing="round_robin"):
  scores = {p: _accuracy(hyps, refs) for p in problems}
  return {"run": run, "seed": seed, "problems": problems, "mixing": mixing,
          "hparams": {}, "train_seconds": 1.0,
          "steps_requested": 3 * len(problems), "scores": scores,
          "decodes": {p: {"hyps": hyps, "refs": refs} for p in problems},
          "curves": {p: [(5, 2.0, 0.5), (10, 1.0, 0.5)] for p in problems}}


class FakeTrainer:
  """A train_fn that records its calls and writes what the trainer would
  (one loss line per step), and an evaluate_fn that scores fixed outputs."""

  def __init__(self):
    self.calls = []

  def train(self, **kw):
    self.calls.append(kw)
    os.makedirs(kw["output_dir"], exist_ok=True)
    with open(os.path.join(kw["output_dir"], "train_loss.jsonl"), "a") as f:
      for step in range(kw["steps"]):
        problem = kw["problems"][step % len(kw["problems"])]
        f.write(json.dumps({"step": step + 1, "problem": problem,
                            "loss": 1.0}) + "\n")

  @staticmethod
  def evaluate(output_dir, problem, limit):
    refs = ["Bag", "Trouser"] * 20
    return _accuracy(refs, refs), refs, refs


def _folders(tmp_path):
  return str(tmp_path / "docs" / "image"), str(tmp_path / "work")


def _experiment(tmp_path, fake, log=lambda m: None, **kw):
  report_dir, work_dir = _folders(tmp_path)
  return experiments.run_experiment(
      "joint_vs_single", ["image_fashion_mnist", "image_digits"], report_dir,
      work_dir, str(tmp_path / "data"), fake.train, steps_per_problem=3,
      evaluate_fn=fake.evaluate, resamples=50, log=log, **kw)


def test_committed_runs_are_reused_without_training(tmp_path):
  report_dir, _ = _folders(tmp_path)
  os.makedirs(os.path.join(report_dir, "runs"))
  refs = ["Bag", "Trouser"] * 30
  for name, problems in (("single_image_fashion_mnist",
                          ["image_fashion_mnist"]),
                         ("single_image_digits", ["image_digits"]),
                         ("joint", ["image_fashion_mnist", "image_digits"])):
    result = _result(name, problems, refs, refs)
    if name == "joint":
      result["steps_requested"] = 99  # made by another command: kept
    with open(os.path.join(report_dir, "runs", f"{name}_seed1.json"),
              "w") as f:
      json.dump(result, f)
  fake, logged = FakeTrainer(), []
  text = _experiment(tmp_path, fake, log=logged.append)
  assert fake.calls == []
  assert len(logged) == 1 and "joint_seed1.json as is" in logged[0]
  assert "| joint | 1 |" in text
  assert os.path.exists(os.path.join(report_dir, "report.md"))
  saved = json.load(open(os.path.join(report_dir, "results.json")))
  assert [r["run"] for r in saved["runs"]] == [
      "single_image_fashion_mnist", "single_image_digits", "joint"]
  assert "decodes" not in saved["runs"][0]  # those stay in runs/


def test_a_run_without_its_json_is_trained_and_written(tmp_path):
  report_dir, work_dir = _folders(tmp_path)
  fake = FakeTrainer()
  # The joint run was cut short earlier: its output_dir is resumed.
  _experiment(tmp_path, fake, train_runs={"joint"})
  assert len(fake.calls) == 1
  call = fake.calls[0]
  assert call["problems"] == ["image_fashion_mnist", "image_digits"]
  assert call["output_dir"] == os.path.join(work_dir, "joint_seed1")
  assert call["log_path"] == os.path.join(work_dir, "joint_seed1.log")
  assert (call["steps"], call["seed"], call["mixing"]) == (6, 1,
                                                            "round_robin")
  assert call["hparams_overrides"] == {} and call["eval_every"] == 1
  result = json.load(open(os.path.join(report_dir, "runs",
                                       "joint_seed1.json")))
  assert result["budget"]["steps_per_problem"] == {"image_fashion_mnist": 3,
                                                   "image_digits": 3}
  assert result["test_examples"] == {"image_fashion_mnist": 40,
                                     "image_digits": 40}
  assert len(result["decodes"]["image_digits"]["hyps"]) == 40
  assert result["cpu_model"] and result["train_cpu_seconds"] >= 0
  assert result["commit"] is None or re.fullmatch("[0-9a-f]{40}",
                                                  result["commit"])
  # A second call trains only what is still missing, resuming nothing done.
  fake2 = FakeTrainer()
  text = _experiment(tmp_path, fake2)
  assert [c["problems"] for c in fake2.calls] == [["image_fashion_mnist"],
                                                  ["image_digits"]]
  assert "Not yet run" not in text
  # With its JSON gone, a run is trained again, resuming its output_dir.
  os.remove(os.path.join(report_dir, "runs", "joint_seed1.json"))
  fake3 = FakeTrainer()
  _experiment(tmp_path, fake3)
  assert [c["output_dir"] for c in fake3.calls] == [
      os.path.join(work_dir, "joint_seed1")]
  again = json.load(open(os.path.join(report_dir, "runs",
                                      "joint_seed1.json")))
  assert again["steps_before"] == 6


def test_checkpoints_never_go_into_the_report_dir(tmp_path):
  with pytest.raises(ValueError, match="inside report_dir"):
    experiments.run_experiment(
        "joint_vs_single", ["image_digits", "image_fashion_mnist"],
        str(tmp_path / "r"), str(tmp_path / "r" / "work"), str(tmp_path),
        FakeTrainer().train, 3)


# --- the report ---------------------------------------------------------------
def test_report_compares_joint_with_single_on_the_same_test_examples(
    tmp_path):
  names = ["T-shirt/top", "Trouser", "Bag"] * 40
  right = list(names)
  wrong = ["Bag"] * len(names)
  results = [_result("single_image_fashion_mnist", ["image_fashion_mnist"],
                     wrong, names),
             _result("joint", ["image_fashion_mnist"], right, names)]
  rows = report.compare("joint_vs_single", results, resamples=50)
  assert len(rows) == 1 and rows[0]["run"] == "joint"
  assert rows[0]["verdict"] == "one seed: no verdict on seed noise"
  per_seed = report.per_seed_table(rows)
  row = [l for l in per_seed.splitlines() if l.startswith("| image_")][0]
  assert "| joint | 1 |" in row and "helped" in row and "+0.67" in row
  summary = report.summarize(results)
  assert "accuracy 0.33" in summary and "accuracy 1.00" in summary
  report.plot_curves(results, str(tmp_path / "c.png"))
  assert (tmp_path / "c.png").stat().st_size > 1000


def test_mixing_report_normalises_by_single_task_results(tmp_path):
  refs = ["a", "b", "c", "d"] * 10
  half = ["a", "b", "x", "x"] * 10
  results = [_result("mixing_round_robin", ["p", "q"], half, refs),
             _result("mixing_inverse_size", ["p", "q"], refs, refs,
                     mixing="weights:p=0.5,q=0.5")]
  text = report.mixing_table(results)
  assert "round_robin run of the same seed (no --single_dir given)" in text
  assert "**mixing_inverse_size** (2.000)" in text
  single = tmp_path / "runs"
  single.mkdir()
  for p in ("p", "q"):
    (single / f"single_{p}_seed1.json").write_text(
        json.dumps(_result(f"single_{p}", [p], refs, refs)))
  text = report.mixing_table(results, str(tmp_path))
  assert f"single-task runs in {tmp_path}" in text
  assert "| mixing_round_robin | `round_robin` | 1 | 0.50 |" in text


# --- the command line ---------------------------------------------------------
def test_resamples_default_to_1000_and_fewer_are_refused(tmp_path, capsys):
  import inspect
  from t2tlite.experiments import stats
  from t2tlite.bin import t2t_experiment
  assert t2t_experiment.FV["resamples"].default == 1000
  for fn in (experiments.run_experiment, report.compare,
             stats.paired_bootstrap):
    assert inspect.signature(fn).parameters["resamples"].default == 1000
  assert t2t_experiment.FV["test_examples"].default == 0
  with pytest.raises(SystemExit) as e:
    t2t_experiment.run(["x", "--experiment=mixing", f"--data_dir={tmp_path}",
                        f"--report_dir={tmp_path}/r", "--resamples=100"])
  assert e.value.code == 2
  assert "--resamples=100 is below 1000" in capsys.readouterr().err
  assert t2t_experiment.hparams_text({"use_moe": False, "x": 2}, 3) == (
      "use_moe=false,x=2,seed=3")
  assert t2t_experiment.hparams_text({"use_moe": False}, 3, "dropout=0.2") \
      == "dropout=0.2,use_moe=false,seed=3"


def test_the_command_trains_a_missing_run_for_real(zen_data, tmp_path):
  """The one real training: t2tlite-trainer in its own process, 2 steps."""
  from t2tlite.bin import t2t_experiment
  report_dir, work_dir = tmp_path / "report", tmp_path / "work"
  with pytest.raises(SystemExit) as e:
    t2t_experiment.run([
        "x", "--experiment=joint_vs_single", f"--usr_dir={USR_DIR}",
        "--problems=zen_reverse-zen_reverse_rev", "--model=transformer",
        "--hparams_set=zen_tiny", "--hparams=dropout=0.15",
        f"--data_dir={zen_data}",
        f"--report_dir={report_dir}", f"--work_dir={work_dir}",
        "--steps_per_problem=2", "--train_runs=single_zen_reverse"])
  assert e.value.code == 0, (work_dir / "single_zen_reverse_seed1.log"
                             ).read_text()[-3000:]
  result = json.loads((report_dir / "runs" /
                       "single_zen_reverse_seed1.json").read_text())
  budget = result["budget"]
  assert budget["steps_per_problem"] == {"zen_reverse": 2}
  assert budget["model"] == "transformer"
  assert budget["seen"] == {"zen_reverse": {
      "target_tokens_at_most": 2 * budget["batch"]["batch_size"]}}
  n = len(result["decodes"]["zen_reverse"]["refs"])
  assert n == result["test_examples"]["zen_reverse"] > 0  # the whole split
  assert "bleu" in result["scores"]["zen_reverse"]
  text = (report_dir / "report.md").read_text()
  assert "Not yet run (left out): single_zen_reverse_rev seed 1, joint" in text
  assert "--train_runs=single_zen_reverse" in text
  from t2tlite.train import run_config
  hp = run_config.read(str(work_dir / "single_zen_reverse_seed1"))["hparams"]
  assert hp.dropout == 0.15 and hp.seed == 1
