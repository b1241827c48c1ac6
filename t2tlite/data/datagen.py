"""Data generation for named problems (the library behind t2tlite-datagen)."""
import os
import sys
import time

from t2tlite.data import data_io
from t2tlite.data import pipeline
from t2tlite.data import problem as problem_lib
from t2tlite.data import vocab as vocab_lib
from t2tlite import registry


def generate(problem_names, data_dir, tmp_dir, wait_for_lock=True):
  """Generates every missing split of each problem; returns seconds taken.

  Problems that share a vocabulary name share one vocabulary file, trained
  once on a bounded sample. A `_rev` problem generates its base problem's
  files, a twin (shares_data_of) the files of the problem it names. One
  datagen runs per data_dir at a time.
  """
  problems = [writer(registry.problem(n)) for n in problem_names]
  served = {}
  for p in problems:
    served.setdefault(problem_lib.vocab_key(p), set()).add(
        problem_lib.data_name(p))
  timings = {}
  with data_io.datagen_lock(data_dir, wait=wait_for_lock):
    for p in problems:
      name = problem_lib.data_name(p)
      start = time.time()
      written = generate_data(
          p, data_dir, tmp_dir,
          served=sorted(served[problem_lib.vocab_key(p)]))
      timings[name] = time.time() - start
      for split, count in written.items():
        print(f"{name}: wrote {count} {split} examples", file=sys.stderr)
      if not written:
        print(f"{name}: all splits already present in {data_dir}",
              file=sys.stderr)
  return timings


def writer(problem):
  """The problem that writes `problem`'s files: the one it shares them
  with (shares_data_of), else itself."""
  if problem.shares_data_of:
    return registry.problem(problem.shares_data_of)
  return problem


def generate_data(problem, data_dir, tmp_dir, served=()):
  """Writes every missing split of one problem (its vocabulary first, if
  it has text); a complete split is left alone. Returns {split: examples
  written}. `served`: the problems sharing its vocabulary (recorded in the
  vocabulary's description)."""
  os.makedirs(tmp_dir, exist_ok=True)
  os.makedirs(data_dir, exist_ok=True)
  name = problem_lib.data_name(problem)
  data_io.remove_incomplete(data_dir, name)
  if ("text" in (problem.input_modality, problem.target_modality)
      and vocab_lib.has_file(problem_lib.vocab_key(problem))):
    ensure_vocab(problem, data_dir, tmp_dir, served)
  from t2tlite.data import codecs as codecs_lib
  sides = codecs_lib.for_problem(problem, data_dir)
  written = {}
  for split, n in problem.num_shards.items():
    if data_io.find_shards(data_dir, name, split):
      continue
    examples = encoded(problem, problem.generate_examples(tmp_dir, split),
                       sides)
    written[split] = data_io.write_split(
        examples, data_dir, name, split, n,
        length_fn=pipeline.length_fn(sides))
  return written


def encoded(problem, examples, codecs):
  """Raw examples ({"inputs": value, "targets": value}) -> the stored
  features, each side by its codec (Codec.encode). A _rev problem stores
  its base problem's orientation: the codec that reads "inputs" encodes
  the raw inputs."""
  sides = {c.key: c for c in codecs}
  for i, example in enumerate(examples):
    if not isinstance(example, dict) or set(example) != set(sides):
      got = sorted(example) if isinstance(example, dict) else example
      raise data_io.DataError(
          f"{problem.name}: generate_examples must yield dicts with the "
          f"keys 'inputs' and 'targets' (raw values); example {i} is {got!r}"
          [:300])
    stored = {}
    for key, codec in sides.items():
      try:
        stored.update(codec.encode(example[key]))
      except ValueError as e:
        raise data_io.DataError(
            f"{problem.name}: example {i}, {key}: {e}") from None
    yield stored


def ensure_vocab(problem, data_dir, tmp_dir, served=()):
  """The problem's vocabulary in data_dir, trained first if missing: on the
  problem's own text (vocab_name None) or the registered vocabulary's."""
  path = vocab_lib.vocab_path(data_dir, problem_lib.vocab_key(problem))
  if os.path.exists(path):
    return vocab_lib.SubwordVocab(path)
  symbols = ()
  if problem.vocab_name is None:
    if not hasattr(problem, "vocab_text"):
      raise data_io.DataError(
          f"{problem.name}: vocab_name is None (a vocabulary of its own) "
          "but the problem has no vocab_text(tmp_dir) and vocab_size; name "
          "a registered vocabulary instead")
    lines, size, desc = (problem.vocab_text(tmp_dir), problem.vocab_size, "")
  else:
    spec = vocab_lib.vocab_spec(problem.vocab_name)
    lines, size, desc = spec.text_fn(tmp_dir), spec.size, spec.description
    symbols = spec.symbols
  served = served or [problem_lib.data_name(problem)]
  return vocab_lib.train_subword_vocab(path, lines, size, served=served,
                                       description=desc, symbols=symbols)
