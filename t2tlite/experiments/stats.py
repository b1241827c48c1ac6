"""Is a difference between two runs more than noise?

Two noises, measured separately:

- The test sample's: a paired bootstrap over the test examples (Koehn
  2004). Both runs decoded the same test examples, so each resample draws
  example indices once and scores both runs' hypotheses on them with the
  problem's own corpus metric (BLEU, accuracy, WER, bracket F1). The spread
  of the difference over resamples gives a 95% interval, per seed.
- The training seed's: the run and its reference are repeated with the same
  seeds; the per-seed differences give a mean, its sample standard
  deviation and a t-based 95% interval of the mean over seeds.

The verdict (seed_verdict) is "helped" or "hurt" only when every seed's
bootstrap interval excludes 0 on the same side AND the interval over seeds
excludes 0 on that side too; otherwise "within noise". One seed gives no
verdict on seed noise. The note "test split too small to separate" says
that the test sample's noise alone hides the difference: every seed's
bootstrap interval holds 0, and the bootstrap's standard error (95%
half-width / 1.96) is at least the seed-to-seed standard deviation of the
difference (with one seed: whenever its interval holds 0). A bigger test
split, not more seeds, is then what would separate the runs.
"""
import math

import numpy as np

# Metrics where a lower value is better.
LOWER_IS_BETTER = ("wer", "cer")
# Fewer resamples make the 2.5% tails too coarse to trust.
MIN_RESAMPLES = 1000
ONE_SEED = "one seed: no verdict on seed noise"
TEST_TOO_SMALL = "test split too small to separate"


def main_metric(scores):
  """(name, value) of a problem's headline metric."""
  for k in ("bleu", "accuracy", "wer", "labelled_f1"):
    if k in scores:
      return k, float(scores[k])
  k = sorted(scores)[0]
  return k, float(scores[k])


def paired_bootstrap(score_fn, metric, hyps_a, hyps_b, refs,
                     resamples=MIN_RESAMPLES, confidence=0.95, seed=0):
  """(b - a, low, high): the metric of run b minus run a and its interval."""
  if not (len(hyps_a) == len(hyps_b) == len(refs)) or not refs:
    raise ValueError("paired bootstrap needs both runs' outputs on the same "
                     "non-empty test examples")
  rng = np.random.default_rng(seed)
  n = len(refs)
  pick = lambda xs, idx: [xs[i] for i in idx]
  full = (float(score_fn(hyps_b, refs)[metric]) -
          float(score_fn(hyps_a, refs)[metric]))
  diffs = []
  for _ in range(resamples):
    idx = rng.integers(0, n, n)
    r = pick(refs, idx)
    diffs.append(float(score_fn(pick(hyps_b, idx), r)[metric]) -
                 float(score_fn(pick(hyps_a, idx), r)[metric]))
  tail = (1.0 - confidence) / 2 * 100
  low, high = np.percentile(diffs, [tail, 100 - tail])
  return full, float(low), float(high)


def better(metric, diff):
  """Whether a difference (b - a) of this metric means b is better."""
  return diff < 0 if metric in LOWER_IS_BETTER else diff > 0


def verdict(metric, diff, low, high):
  """'helped', 'hurt' or 'within noise' for run b against run a, on one
  bootstrap interval (the test sample's noise only)."""
  if low <= 0.0 <= high:
    return "within noise"
  return "helped" if better(metric, diff) else "hurt"


def seed_interval(diffs, confidence=0.95):
  """(mean, sample std, low, high) of per-seed differences: a t-based
  interval of the mean; std, low and high are None with one seed."""
  xs = np.asarray(diffs, float)
  mean = float(xs.mean())
  if len(xs) < 2:
    return mean, None, None, None
  from scipy import stats  # pylint: disable=import-outside-toplevel
  std = float(xs.std(ddof=1))
  half = float(stats.t.ppf(0.5 + confidence / 2, len(xs) - 1)) * std / (
      math.sqrt(len(xs)))
  return mean, std, mean - half, mean + half


def seed_verdict(metric, per_seed, confidence=0.95):
  """Both noises together, for one problem, run against reference.

  per_seed: [(diff, low, high)] per seed: the difference and its bootstrap
  interval. Returns {"mean", "std", "low", "high", "verdict", "note"}
  (the rule is this module's docstring's).
  """
  if not per_seed:
    raise ValueError("seed_verdict needs at least one seed")
  mean, std, low, high = seed_interval([d for d, _, _ in per_seed],
                                       confidence)
  all_hold_zero = all(lo <= 0.0 <= hi for _, lo, hi in per_seed)
  if len(per_seed) == 1:
    result = ONE_SEED
    too_small = all_hold_zero
  else:
    above = all(lo > 0.0 for _, lo, _ in per_seed) and low > 0.0
    below = all(hi < 0.0 for _, _, hi in per_seed) and high < 0.0
    if above or below:
      result = "helped" if better(metric, mean) else "hurt"
    else:
      result = "within noise"
    test_se = np.mean([(hi - lo) / 2 / 1.96 for _, lo, hi in per_seed])
    too_small = all_hold_zero and test_se >= std
  return {"mean": mean, "std": std, "low": low, "high": high,
          "verdict": result, "note": TEST_TOO_SMALL if too_small else ""}
