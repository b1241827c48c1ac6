"""Codecs: how each side of a problem's examples meets the outside world.

`for_problem(problem, vocab_dir)` gives a problem's two codecs (`inputs`,
`targets`), looked up by the names the problem gives (`codecs`, by
default its modalities) and swapped for a _rev problem.
The decoder, t2tlite.load and the exporter all go through them, so a line
is read, and an output written, the same way everywhere. See base.py for
what a codec does.
"""
import collections

from t2tlite import registry
from t2tlite.data import problem as problem_lib
from t2tlite.data.codecs.base import BatchSide, Codec, ExportError  # noqa: F401
from t2tlite.data.codecs import audio  # noqa: F401  (registers codecs)
from t2tlite.data.codecs import class_label  # noqa: F401
from t2tlite.data.codecs import image  # noqa: F401
from t2tlite.data.codecs import text  # noqa: F401
from t2tlite.data.codecs import tree  # noqa: F401

Codecs = collections.namedtuple("Codecs", ["inputs", "targets"])


def names(problem):
  """(input codec name, target codec name) of a problem, _rev swapped."""
  given_in, given_out = problem.codecs
  pair = (given_in or problem.input_modality,
          given_out or problem.target_modality)
  return pair[::-1] if problem_lib.is_reversed(problem) else pair


def for_problem(problem, vocab_dir):
  """The problem's Codecs; vocabularies are read from vocab_dir."""
  keys = ("inputs", "targets")
  modalities = (problem.input_modality, problem.target_modality)
  if problem_lib.is_reversed(problem):
    keys, modalities = keys[::-1], modalities[::-1]
  built = [registry.codecs.get(name)(problem, key, vocab_dir, partner)
           for name, key, partner in zip(names(problem), keys,
                                         modalities[::-1])]
  return Codecs(*built)
