"""The experiment runner's plan and its report's statistics."""
import numpy as np
import pytest

import t2tlite  # noqa: F401
from t2tlite import experiment_stats as stats
from t2tlite import experiments

PROBLEMS = ["translate_ende_ddtp", "image_fashion_mnist", "speech_tts_en",
            "parsing_english_silver", "image_caption_tuxpaint"]


def test_joint_vs_single_trains_each_problem_alone_and_all_together():
  runs = experiments.experiment_runs("joint_vs_single", PROBLEMS)
  assert [r["problems"] for r in runs[:-1]] == [[p] for p in PROBLEMS]
  assert runs[-1]["name"] == "joint"
  assert runs[-1]["problems"] == PROBLEMS


def test_ablations_switch_one_thing_each_on_translation_and_images():
  runs = experiments.experiment_runs("ablations", PROBLEMS)
  assert all(r["problems"] == ["translate_ende_ddtp", "image_fashion_mnist"]
             for r in runs)
  assert [r["hparams"] for r in runs] == [
      "", "use_moe=false", "decoder_attention=false",
      "encoder_self_attention=true"]


def test_unknown_experiment_is_refused():
  with pytest.raises(ValueError, match="unknown experiment"):
    experiments.experiment_runs("joint_vs_everything", PROBLEMS)


def _accuracy(hyps, refs):
  return {"accuracy": float(np.mean([h == r for h, r in zip(hyps, refs)]))}


def test_paired_bootstrap_tells_a_real_gain_from_noise():
  rng = np.random.default_rng(0)
  refs = [str(x) for x in rng.integers(0, 10, 300)]
  weak = [r if rng.random() < 0.3 else "x" for r in refs]
  strong = [r if rng.random() < 0.8 else "x" for r in refs]
  diff, low, high = stats.paired_bootstrap(_accuracy, "accuracy", weak,
                                           strong, refs)
  assert 0.4 < diff < 0.6 and 0 < low < diff < high
  assert stats.verdict("accuracy", diff, low, high) == "helped"
  # The same outputs with a few flipped: the interval holds 0.
  twin = list(weak)
  twin[0] = refs[0] if twin[0] != refs[0] else "x"
  d2, l2, h2 = stats.paired_bootstrap(_accuracy, "accuracy", weak, twin,
                                      refs)
  assert stats.verdict("accuracy", d2, l2, h2) == "within noise"


def test_lower_is_better_metrics_flip_the_verdict():
  assert stats.verdict("wer", -10.0, -15.0, -5.0) == "helped"
  assert stats.verdict("bleu", -10.0, -15.0, -5.0) == "hurt"


def test_bootstrap_refuses_unpaired_outputs():
  with pytest.raises(ValueError, match="same"):
    stats.paired_bootstrap(_accuracy, "accuracy", ["a"], ["a", "b"],
                           ["a", "b"])


def _result(run, problems, hyps, refs, seed=1):
  scores = {p: _accuracy(hyps, refs) for p in problems}
  return {"run": run, "seed": seed, "problems": problems,
          "train_seconds": 1.0, "steps": 10, "scores": scores,
          "decodes": {p: {"hyps": hyps, "refs": refs} for p in problems},
          "curves": {p: [(5, 2.0), (10, 1.0)] for p in problems}}


def test_report_compares_joint_with_single_on_the_same_test_examples(
    tmp_path):
  names = ["T-shirt/top", "Trouser", "Bag"] * 40
  right = list(names)
  wrong = ["Bag"] * len(names)
  results = [_result("single_image_fashion_mnist", ["image_fashion_mnist"],
                     wrong, names),
             _result("joint", ["image_fashion_mnist"], right, names)]
  table = experiments.compare("joint_vs_single", results, resamples=50)
  rows = [l for l in table.splitlines() if l.startswith("| image_")]
  assert len(rows) == 1
  assert "| joint |" in rows[0] and "helped" in rows[0]
  assert "+0.67" in rows[0]
  summary = experiments.summarize(results)
  assert "accuracy 0.33" in summary and "accuracy 1.00" in summary
  experiments.plot_curves(results, str(tmp_path / "c.png"))
  assert (tmp_path / "c.png").stat().st_size > 1000
