"""Data generation for named problems (the library behind t2tlite-datagen)."""
import os
import sys
import time

from t2tlite.data import data_io
from t2tlite.data import pipeline
from t2tlite.data import vocab as vocab_lib
from t2tlite import registry


def generate(problem_names, data_dir, tmp_dir, wait_for_lock=True):
  """Generates every missing split of each problem; returns seconds taken.

  Problems that share a vocabulary name share one vocabulary file, trained
  once on a bounded sample. A `_rev` problem generates its base problem's
  files. One datagen runs per data_dir at a time.
  """
  problems = [registry.problem(n) for n in problem_names]
  served = {}
  for p in problems:
    served.setdefault(p.vocab_key, set()).add(p.data_name)
  timings = {}
  with data_io.datagen_lock(data_dir, wait=wait_for_lock):
    for p in problems:
      start = time.time()
      written = generate_data(p, data_dir, tmp_dir,
                              served=sorted(served[p.vocab_key]))
      timings[p.data_name] = time.time() - start
      for split, count in written.items():
        print(f"{p.data_name}: wrote {count} {split} examples",
              file=sys.stderr)
      if not written:
        print(f"{p.data_name}: all splits already present in {data_dir}",
              file=sys.stderr)
  return timings


def generate_data(problem, data_dir, tmp_dir, served=()):
  """Writes every missing split of one problem (its vocabulary first, if
  it has text); a complete split is left alone. Returns {split: examples
  written}. `served`: the problems sharing its vocabulary (recorded in the
  vocabulary's description)."""
  os.makedirs(tmp_dir, exist_ok=True)
  os.makedirs(data_dir, exist_ok=True)
  data_io.remove_incomplete(data_dir, problem.data_name)
  if "text" in (problem.input_modality, problem.target_modality):
    ensure_vocab(problem, data_dir, tmp_dir, served)
  written = {}
  for split, n in problem.num_shards.items():
    if data_io.find_shards(data_dir, problem.data_name, split):
      continue
    examples = problem.generate_examples(data_dir, tmp_dir, split)
    written[split] = data_io.write_split(
        examples, data_dir, problem.data_name, split, n,
        length_fn=pipeline.length_fn(problem, data_dir))
  return written


def ensure_vocab(problem, data_dir, tmp_dir, served=()):
  """The problem's vocabulary in data_dir, trained first if missing: on the
  problem's own text (vocab_name None) or the registered vocabulary's."""
  path = vocab_lib.vocab_path(data_dir, problem.vocab_key)
  if os.path.exists(path):
    return vocab_lib.SubwordVocab(path)
  symbols = ()
  if problem.vocab_name is None:
    lines, size, desc = (problem.vocab_text(tmp_dir), problem.vocab_size, "")
  else:
    spec = vocab_lib.vocab_spec(problem.vocab_name)
    lines, size, desc = spec.text_fn(tmp_dir), spec.size, spec.description
    symbols = spec.symbols
  return vocab_lib.train_subword_vocab(path, lines, size,
                                       served=served or [problem.data_name],
                                       description=desc, symbols=symbols)
