"""WER/CER speed: rapidfuzz's Levenshtein (t2tlite.metrics.wer) against the
pure-Python dynamic programme it replaced, on the same lines, with the same
counts required.

Lines: sentences of /usr/share/common-licenses as references; hypotheses
are those with random word and character edits (substitutions, deletions,
insertions), as a recogniser's mistakes. Both scorers run the project's
normaliser; the cache of per-line counts is cleared before each timing.

  python benchmarks/bench_wer.py [--lines 10000] [--json PATH]
"""
import argparse
import glob
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common  # noqa: E402  pylint: disable=wrong-import-position

from t2tlite.metrics import wer as metrics_wer  # noqa: E402  pylint: disable=wrong-import-position

LICENSES = "/usr/share/common-licenses"


def python_edit_distance(ref, hyp):
  """The implementation metrics_wer had before rapidfuzz (the reference)."""
  if len(ref) < len(hyp):
    ref, hyp = hyp, ref
  prev = list(range(len(hyp) + 1))
  for i, r in enumerate(ref, 1):
    cur = [i] + [0] * len(hyp)
    for j, h in enumerate(hyp, 1):
      cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
    prev = cur
  return prev[-1]


def python_error_counts(hypotheses, references):
  """metrics_wer.error_counts as it was: the same normaliser, the old
  edit distance (uncached)."""
  totals = [0, 0, 0, 0]
  for hyp, ref in zip(hypotheses, references):
    hyp, ref = metrics_wer.normalize(hyp), metrics_wer.normalize(ref)
    counts = (python_edit_distance(ref.split(), hyp.split()),
              len(ref.split()), python_edit_distance(ref, hyp), len(ref))
    for i, n in enumerate(counts):
      totals[i] += n
  return tuple(totals)


def license_sentences(root=LICENSES):
  """Sentences (3 to 60 words) of the licence texts, in file order."""
  out = []
  for path in sorted(glob.glob(os.path.join(root, "*"))):
    if not os.path.isfile(path):
      continue
    with open(path, encoding="utf-8", errors="replace") as f:
      text = " ".join(f.read().split())
    for sent in re.split(r"(?<=[.;:!?])\s+", text):
      if 3 <= len(sent.split()) <= 60:
        out.append(sent)
  return out


def corrupt(sentence, rng, rate=0.15):
  """A hypothesis: random word substitutions, deletions and insertions,
  and character typos, about `rate` of the words touched."""
  words = sentence.split()
  vocab = ["the", "a", "of", "license", "software", "and", "to", "program"]
  out = []
  for w in words:
    r = rng.random()
    if r < rate / 4:
      continue  # deletion
    if r < rate / 2:
      out.append(rng.choice(vocab))  # substitution
    elif r < 3 * rate / 4:
      out.extend([w, rng.choice(vocab)])  # insertion
    elif r < rate and w:
      i = rng.randrange(len(w))  # a character typo
      out.append(w[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + w[i + 1:])
    else:
      out.append(w)
  if rng.random() < 0.02:
    out = []  # now and then an empty transcript
  return " ".join(out)


def make_lines(n, seed=0):
  """n (hypotheses, references) pairs from the licence sentences."""
  sentences = license_sentences()
  if not sentences:
    raise SystemExit(f"no sentences under {LICENSES}")
  rng = random.Random(seed)
  refs = [sentences[i % len(sentences)] for i in range(n)]
  rng.shuffle(refs)
  return [corrupt(s, rng) for s in refs], refs


def timed(fn, repeats):
  best = float("inf")
  result = None
  for _ in range(repeats):
    metrics_wer.line_counts.cache_clear()
    start = time.perf_counter()
    result = fn()
    best = min(best, time.perf_counter() - start)
  return best, result


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--lines", type=int, default=10000)
  parser.add_argument("--repeats", type=int, default=3,
                      help="timings per implementation; the best is kept")
  bench_common.add_json_flag(parser, "bench_wer")
  args = parser.parse_args(argv)
  hyps, refs = make_lines(args.lines)
  t_old, old = timed(lambda: python_error_counts(hyps, refs), args.repeats)
  t_new, new = timed(lambda: metrics_wer.error_counts(hyps, refs),
                     args.repeats)
  t_norm, _ = timed(lambda: [(metrics_wer.normalize(h),
                              metrics_wer.normalize(r))
                             for h, r in zip(hyps, refs)], args.repeats)
  if old != new:
    raise SystemExit(f"counts differ: python {old}, rapidfuzz {new}")
  w_err, w_total, c_err, c_total = new
  import rapidfuzz  # pylint: disable=import-outside-toplevel
  results = {
      "lines": args.lines,
      "source": LICENSES,
      "reference_words": w_total,
      "reference_chars": c_total,
      "wer": round(100.0 * w_err / max(w_total, 1), 2),
      "cer": round(100.0 * c_err / max(c_total, 1), 2),
      "counts_identical": old == new,
      "python_s": round(t_old, 4),
      "rapidfuzz_s": round(t_new, 4),
      "normalise_only_s": round(t_norm, 4),
      "speedup": round(t_old / t_new, 1),
      "edit_distance_speedup": round(
          (t_old - t_norm) / max(t_new - t_norm, 1e-9), 1),
      "rapidfuzz_version": rapidfuzz.__version__,
      "python": sys.version.split()[0],
      "repeats": args.repeats,
      "command": "python benchmarks/bench_wer.py --lines "
                 f"{args.lines}",
  }
  print(f"{args.lines} lines ({w_total} words, {c_total} chars): "
        f"WER {results['wer']}%, CER {results['cer']}%")
  print(f"pure python: {t_old:.3f}s   rapidfuzz: {t_new:.3f}s   "
        f"(normalising alone: {t_norm:.3f}s)")
  print(f"speedup: {results['speedup']}x overall, "
        f"{results['edit_distance_speedup']}x on the edit distances")
  bench_common.write_json(args.json, results)
  return results


if __name__ == "__main__":
  main()
