"""Word and character error rates of transcripts.

WER = (substitutions + deletions + insertions) / reference words, summed
over the corpus before dividing (not an average of per-line rates); CER
likewise over characters. Both sides get the same normalisation first:
lowercase, punctuation removed (an apostrophe inside a word is kept:
"don't"), whitespace collapsed. The edit distance is an exact dynamic
programme, O(len(ref) * len(hyp)) per line.
"""
import functools
import re
import unicodedata

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
  """Levenshtein distance between two sequences (unit costs)."""
  if len(ref) < len(hyp):
    ref, hyp = hyp, ref
  prev = list(range(len(hyp) + 1))
  for i, r in enumerate(ref, 1):
    cur = [i] + [0] * len(hyp)
    for j, h in enumerate(hyp, 1):
      cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
    prev = cur
  return prev[-1]


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
