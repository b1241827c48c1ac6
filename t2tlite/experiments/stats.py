"""Is a difference between two runs more than test-set noise?

A paired bootstrap over the test examples (Koehn 2004): both runs decoded
the same test examples, so each resample draws example indices once and
scores both runs' hypotheses on them with the problem's own corpus metric
(BLEU, accuracy, WER, bracket F1). The spread of the difference over
resamples gives a confidence interval; an interval that contains 0 is
"within noise". This measures the test sample's noise only; training-seed
noise needs repeats (--seeds), which the report shows when present.
"""
import numpy as np

# Metrics where a lower value is better.
LOWER_IS_BETTER = ("wer", "cer")


def main_metric(scores):
  """(name, value) of a problem's headline metric."""
  for k in ("bleu", "accuracy", "wer", "labelled_f1"):
    if k in scores:
      return k, float(scores[k])
  k = sorted(scores)[0]
  return k, float(scores[k])


def paired_bootstrap(score_fn, metric, hyps_a, hyps_b, refs, resamples=200,
                     confidence=0.95, seed=0):
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


def verdict(metric, diff, low, high):
  """'helped', 'hurt' or 'within noise' for run b against run a."""
  if low <= 0.0 <= high:
    return "within noise"
  better = diff < 0 if metric in LOWER_IS_BETTER else diff > 0
  return "helped" if better else "hurt"
