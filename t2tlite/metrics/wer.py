"""Word and character error rates of transcripts.

WER = (substitutions + deletions + insertions) / reference words, summed
over the corpus before dividing (not an average of per-line rates); CER
likewise over characters. Both sides get the same normalisation first:
lowercase, punctuation removed (an apostrophe inside a word is kept:
"don't"), whitespace collapsed. The edit distance (unit costs) is
rapidfuzz's Levenshtein, a maintained C++ implementation (bit-parallel, far
faster than a Python dynamic programme, with the same exact counts: see
benchmarks/bench_wer.py and tests/test_metrics_wer.py).
"""
import functools
import re
import unicodedata

from rapidfuzz.distance import Levenshtein

_APOSTROPHES = "\u2019\u2018`"


def normalize(text):
  """Lowercase, no punctuation, single spaces."""
  text = unicodedata.normalize("NFKC", text).lower()
  for a in _APOSTROPHES:
    text = text.replace(a, "'")
  out = []
  for ch in text:
    cat = unicodedata.category(ch)
    out.append(" " if (cat[0] in "PSZC" and ch != "'") else ch)
  text = "".join(out)
  text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)  # quotes, not apostrophes
  return " ".join(text.split())


def edit_distance(ref, hyp):
  """Levenshtein distance between two sequences (unit costs): two strings
  (characters) or two lists of tokens."""
  if not (isinstance(ref, str) and isinstance(hyp, str)):
    # Tokens as small integers, numbered per pair: equality is exactly
    # the tokens' own (rapidfuzz would otherwise compare their hashes).
    ids = {}
    ref = [ids.setdefault(t, len(ids)) for t in ref]
    hyp = [ids.setdefault(t, len(ids)) for t in hyp]
  return Levenshtein.distance(ref, hyp)


@functools.lru_cache(maxsize=1 << 16)
def line_counts(hyp, ref):
  """(word edits, reference words, char edits, reference chars) of a line.

  Cached: bootstrap resampling scores the same lines hundreds of times.
  """
  hyp, ref = normalize(hyp), normalize(ref)
  return (edit_distance(ref.split(), hyp.split()), len(ref.split()),
          edit_distance(ref, hyp), len(ref))


def error_counts(hypotheses, references):
  """(word edits, reference words, char edits, reference chars)."""
  if len(hypotheses) != len(references):
    raise ValueError(f"{len(hypotheses)} hypotheses for "
                     f"{len(references)} references")
  totals = [0, 0, 0, 0]
  for hyp, ref in zip(hypotheses, references):
    for i, n in enumerate(line_counts(hyp, ref)):
      totals[i] += n
  return tuple(totals)


def wer_cer(hypotheses, references):
  """{"wer": ..., "cer": ...} in percent, over the whole corpus."""
  w_err, w_total, c_err, c_total = error_counts(hypotheses, references)
  return {"wer": round(100.0 * w_err / max(w_total, 1), 2),
          "cer": round(100.0 * c_err / max(c_total, 1), 2)}


def distinct_share(hypotheses):
  """Distinct hypotheses / hypotheses, after WER's normalisation (case and
  punctuation do not make two outputs differ); 0.0 for none.

  A model that ignores its audio and writes its language model's favourite
  sentence scores 1 / N; one that listens scores about the share of
  distinct references (1.0 on speech_tts_en's dev split)."""
  if not hypotheses:
    return 0.0
  return len({normalize(h) for h in hypotheses}) / len(hypotheses)
