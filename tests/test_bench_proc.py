"""Benchmarks measure in fresh processes (benchmarks/bench_proc.py): a
request goes in, one JSON answer with that process's peak memory comes
back, and a failing measurement says why instead of yielding a figure."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "benchmarks"))
import bench_proc  # noqa: E402  pylint: disable=wrong-import-position

WORKER = """
import os, sys
sys.path.insert(0, {bench!r})
import bench_proc

def grow(mib):
  block = bytearray(mib * 2 ** 20)  # resident once written
  for i in range(0, len(block), 4096):
    block[i] = 1
  return {{"pid": os.getpid(), "mib": mib}}

def fail():
  raise ValueError("no such shape")

bench_proc.serve({{"grow": grow, "fail": fail}})
print("not a worker")
"""


@pytest.fixture
def worker(tmp_path):
  bench = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "benchmarks")
  path = tmp_path / "worker.py"
  path.write_text(WORKER.format(bench=os.path.abspath(bench)))
  return str(path)


def test_each_measurement_gets_a_fresh_process_and_its_own_peak(worker):
  small = bench_proc.run(worker, "grow", mib=1)
  big = bench_proc.run(worker, "grow", mib=200)
  assert small["pid"] != big["pid"] != os.getpid()
  assert big["mib"] == 200
  # Each peak is its own process's, not inherited from the one before.
  assert big["peak_rss_gib"] >= 200 / 1024
  assert small["peak_rss_gib"] < big["peak_rss_gib"] - 150 / 1024


def test_a_failing_measurement_raises_with_its_reason(worker):
  with pytest.raises(RuntimeError, match="fail failed.*no such shape"):
    bench_proc.run(worker, "fail")
