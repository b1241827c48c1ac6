"""The experiment report's statistics: the paired bootstrap (test-sample
noise) and the verdict over seeds (seed noise)."""
import numpy as np
import pytest

from t2tlite.experiments import stats


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


def test_seed_interval_is_t_based():
  mean, std, low, high = stats.seed_interval([1.0, 2.0, 3.0])
  assert (mean, std) == (2.0, 1.0)
  # t(0.975, 2 degrees of freedom) = 4.303
  assert (high - mean) == pytest.approx(4.303 / np.sqrt(3), rel=1e-3)
  assert low == pytest.approx(2 * mean - high)
  assert stats.seed_interval([0.5]) == (0.5, None, None, None)


def test_two_seeds_that_both_helped_helped():
  out = stats.seed_verdict("bleu", [(0.30, 0.20, 0.40), (0.31, 0.21, 0.41)])
  assert out["verdict"] == "helped" and out["note"] == ""
  assert out["mean"] == pytest.approx(0.305)
  assert out["low"] > 0
  assert stats.seed_verdict("wer", [(-10, -15, -5), (-11, -16, -6)])[
      "verdict"] == "helped"
  assert stats.seed_verdict("bleu", [(-10, -15, -5), (-11, -16, -6)])[
      "verdict"] == "hurt"


def test_seeds_that_disagree_are_within_noise():
  out = stats.seed_verdict("accuracy", [(0.3, 0.2, 0.4), (-0.3, -0.4, -0.2)])
  assert out["verdict"] == "within noise"
  # Both bootstrap intervals exclude 0 but the seeds spread too much for
  # the interval over seeds to: still within noise.
  wide = stats.seed_verdict("accuracy", [(0.3, 0.2, 0.4), (0.05, 0.01, 0.1)])
  assert wide["low"] < 0 and wide["verdict"] == "within noise"
  # One seed's interval holds 0: within noise, whatever the others say.
  assert stats.seed_verdict("accuracy", [
      (0.30, 0.20, 0.40), (0.30, -0.01, 0.60), (0.30, 0.20, 0.40)])[
          "verdict"] == "within noise"


def test_one_seed_gives_no_verdict_on_seed_noise():
  out = stats.seed_verdict("accuracy", [(0.3, 0.2, 0.4)])
  assert out["verdict"] == "one seed: no verdict on seed noise"
  assert out["std"] is None and out["note"] == ""
  held = stats.seed_verdict("accuracy", [(0.01, -0.05, 0.07)])
  assert held["note"] == "test split too small to separate"


def test_a_small_test_split_is_told_from_seed_noise():
  # Intervals hold 0 and are wide; the seeds agree closely: the test
  # split is what hides the difference.
  small = stats.seed_verdict("bleu", [(0.5, -1.0, 2.0), (0.6, -0.9, 2.1)])
  assert small["verdict"] == "within noise"
  assert small["note"] == "test split too small to separate"
  # Both intervals hold 0 but the seeds spread more than the test sample
  # varies: seed noise, not the test split.
  seedy = stats.seed_verdict("bleu", [(0.1, -0.05, 0.25), (-0.1, -0.25, 0.05)])
  assert seedy["verdict"] == "within noise" and seedy["note"] == ""
