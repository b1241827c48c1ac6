"""Decoded metrics, registered by name; a Problem names the ones it is
scored on (`Problem.metrics`), and `score` computes them.

  bleu                      corpus BLEU (sacrebleu, as papers report it)
  wer, cer                  word and character error rates (wer.py)
  distinct                  the share of distinct outputs (wer.py)
  accuracy, top5_accuracy   class labels: the first name, the first five
  labelled_f1, unlabelled_f1, exact_match, malformed
                            bracket scores as evalb computes them (evalb.py)

A scorer is fn(hypotheses, references, problem) -> {name: value}; one that
gives several metrics is registered under the first and the others are
aliases of it, so it runs once however many of them a problem names.
"""
import re

import numpy as np

from t2tlite import registry
from t2tlite.metrics import evalb
from t2tlite.metrics import wer as wer_lib


def register(*names):
  """Decorator: a scorer giving the metrics `names`."""

  def decorate(fn):
    registry.metrics.register(names[0])(fn)
    for alias in names[1:]:
      registry.metrics.register_alias(alias, names[0])
    return fn

  return decorate


def score(problem, hypotheses, references):
  """Metric name -> value for decoded lines against reference lines, for
  every metric the problem names (an unknown name is an error)."""
  out, done = {}, set()
  for name in problem.metrics:
    key = registry.metrics.resolve(name)
    if key in done:
      continue
    done.add(key)
    out.update(registry.metrics.get(key)(list(hypotheses), list(references),
                                         problem))
  return out


@register("bleu")
def bleu(hypotheses, references, problem=None):
  import sacrebleu
  return {"bleu": round(sacrebleu.corpus_bleu(hypotheses,
                                              [references]).score, 2)}


@register("wer", "cer")
def wer_cer(hypotheses, references, problem=None):
  return wer_lib.wer_cer(hypotheses, references)


@register("distinct")
def distinct(hypotheses, references, problem=None):
  """The share of distinct hypotheses (wer.distinct_share): about 1 / N
  for a model that writes the same output for every input."""
  return {"distinct": wer_lib.distinct_share(hypotheses)}


def _ranked_names(hypothesis):
  names = []
  for item in hypothesis.split("; "):
    m = re.fullmatch(r"(.*):([0-9.eE+-]+)", item)
    names.append(m.group(1) if m else item)
  return names


@register("accuracy", "top5_accuracy")
def accuracy(hypotheses, references, problem=None):
  """Accuracy of the first name of each hypothesis ("name" or the
  "name:score; ..." of top_k); top5_accuracy when 5 names are given."""
  if not references:
    return {"accuracy": 0.0}
  ranked = [_ranked_names(h) for h in hypotheses]
  out = {"accuracy": float(np.mean([r[0] == ref for r, ref in
                                    zip(ranked, references)]))}
  if all(len(r) >= 5 for r in ranked):
    out["top5_accuracy"] = float(np.mean([ref in r[:5] for r, ref in
                                          zip(ranked, references)]))
  return out


@register("labelled_f1", "unlabelled_f1", "exact_match", "malformed")
def brackets(hypotheses, references, problem=None):
  """evalb's bracket scores; trees with part-of-speech preterminals
  (problem.keep_pos) do not count them as brackets."""
  return evalb.score(hypotheses, references,
                     pos_tags=bool(getattr(problem, "keep_pos", False)))
