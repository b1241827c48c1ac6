"""Data generation for named problems (the library behind t2tlite-datagen)."""
import sys
import time

from t2tlite.data import data_io
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
      written = p.generate_data(data_dir, tmp_dir,
                                served=sorted(served[p.vocab_key]))
      timings[p.data_name] = time.time() - start
      for split, count in written.items():
        print(f"{p.data_name}: wrote {count} {split} examples",
              file=sys.stderr)
      if not written:
        print(f"{p.data_name}: all splits already present in {data_dir}",
              file=sys.stderr)
  return timings
