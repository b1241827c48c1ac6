"""WER/CER through rapidfuzz give exactly the counts of the pure-Python
dynamic programme they replaced, on real text with random edits."""
import json
import os
import random
import sys


sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "benchmarks"))
import bench_wer  # noqa: E402  pylint: disable=wrong-import-position

from t2tlite.metrics import wer as metrics_wer  # noqa: E402



def test_counts_equal_the_python_programme_on_licence_text():
  hyps, refs = bench_wer.make_lines(400, seed=7)
  assert any(not h for h in hyps) and any(h != r for h, r in zip(hyps, refs))
  metrics_wer.line_counts.cache_clear()
  assert metrics_wer.error_counts(hyps, refs) == (
      bench_wer.python_error_counts(hyps, refs))
  # Line by line too (a corpus total could hide compensating errors).
  for h, r in zip(hyps[:100], refs[:100]):
    nh, nr = metrics_wer.normalize(h), metrics_wer.normalize(r)
    assert metrics_wer.edit_distance(nr.split(), nh.split()) == (
        bench_wer.python_edit_distance(nr.split(), nh.split())), (h, r)
    assert metrics_wer.edit_distance(nr, nh) == (
        bench_wer.python_edit_distance(nr, nh)), (h, r)


def test_random_sequences_match_the_python_programme():
  rng = random.Random(3)
  for _ in range(300):
    a = [rng.choice("abcde") for _ in range(rng.randrange(0, 30))]
    b = [rng.choice("abcdef") for _ in range(rng.randrange(0, 30))]
    expected = bench_wer.python_edit_distance(a, b)
    assert metrics_wer.edit_distance(a, b) == expected
    assert metrics_wer.edit_distance("".join(a), "".join(b)) == expected
    words = ["w" + x for x in a], ["w" + x for x in b]
    assert metrics_wer.edit_distance(*words) == expected


def test_tokens_are_compared_by_equality_not_hash():
  assert hash(-1) == hash(-2)  # CPython: the same hash, different tokens
  assert metrics_wer.edit_distance([-1, 5], [-2, 5]) == 1
  assert metrics_wer.edit_distance(["don't", "stop"], ["dont", "stop"]) == 1
  assert metrics_wer.edit_distance([], []) == 0
  assert metrics_wer.edit_distance("", "abc") == 3
  # Non-ASCII characters count once each.
  assert metrics_wer.edit_distance("naïve café", "naive cafe") == 2


def test_wer_cer_in_percent_over_the_corpus():
  out = metrics_wer.wer_cer(["the cat sat on a mat", ""],
                            ["The cat sat on the mat.", "Gone"])
  # Words: 1 + 1 edits over 6 + 1; characters: 3 + 4 over 22 + 4.
  assert out == {"wer": round(100 * 2 / 7, 2), "cer": round(100 * 7 / 26, 2)}


def test_the_benchmark_writes_both_timings(tmp_path):
  path = tmp_path / "bench_wer.json"
  bench_wer.main(["--lines", "60", "--repeats", "1", "--json", str(path)])
  got = json.loads(path.read_text())
  assert got["counts_identical"] is True and got["lines"] == 60
  assert got["python_s"] > 0 and got["rapidfuzz_s"] > 0
