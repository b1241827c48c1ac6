"""scripts/compare_evals.py: the reproducibility check the quality run's
README quotes (two runs' dev evaluations equal but for wall time)."""
import json
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "scripts", "compare_evals.py")


def _write(path, rows):
  with open(path, "w") as f:
    f.writelines(json.dumps(r) + "\n" for r in rows)
  return str(path)


def _run(a, b):
  return subprocess.run([sys.executable, SCRIPT, a, b], capture_output=True,
                        text=True)


ROWS = [{"step": 100, "problem": "p", "wall_s": 1.0, "loss": 2.5},
        {"step": 200, "problem": "p", "wall_s": 2.0, "loss": 2.25}]


def test_equal_runs_differ_only_in_wall_time(tmp_path):
  slower = [dict(r, wall_s=r["wall_s"] * 3) for r in ROWS]
  out = _run(_write(tmp_path / "a", ROWS), _write(tmp_path / "b", slower))
  assert out.returncode == 0, out.stdout
  assert "2 evaluations, 2 equal, 0 differ" in out.stdout


def test_a_changed_metric_or_missing_evaluation_fails(tmp_path):
  changed = [ROWS[0], dict(ROWS[1], loss=2.2500001)]
  out = _run(_write(tmp_path / "a", ROWS), _write(tmp_path / "b", changed))
  assert out.returncode == 1
  assert "step 200 p:" in out.stdout and "1 differ" in out.stdout
  out = _run(_write(tmp_path / "a", ROWS), _write(tmp_path / "c", ROWS[:1]))
  assert out.returncode == 1
  assert "step 200 p: only in" in out.stdout


def test_unreadable_file_is_a_one_line_error(tmp_path):
  out = _run(str(tmp_path / "missing"), _write(tmp_path / "a", ROWS))
  assert out.returncode == 2
  assert out.stderr.strip().count("\n") == 0
  assert "cannot read" in out.stderr


def test_a_repeated_evaluation_of_a_step_is_a_one_line_error(tmp_path):
  # A resumed run appending to its old log: which entry counts is unknown,
  # so the comparison refuses instead of keeping one of them.
  twice = ROWS + [dict(ROWS[1], loss=2.0)]
  for a, b in ((_write(tmp_path / "twice", twice), _write(tmp_path / "a", ROWS)),
               (_write(tmp_path / "a", ROWS), _write(tmp_path / "twice", twice))):
    out = _run(a, b)
    assert out.returncode == 2, out.stdout
    assert out.stderr.strip().count("\n") == 0
    assert str(tmp_path / "twice") in out.stderr
    assert "step 200" in out.stderr and "twice" in out.stderr
    assert out.stdout == ""


def test_the_same_step_of_two_problems_is_not_a_repeat(tmp_path):
  two = ROWS + [dict(ROWS[1], problem="q")]
  out = _run(_write(tmp_path / "a", two), _write(tmp_path / "b", two))
  assert out.returncode == 0, out.stderr
  assert "3 evaluations, 3 equal, 0 differ" in out.stdout


def test_an_entry_without_a_step_is_a_one_line_error(tmp_path):
  out = _run(_write(tmp_path / "a", ROWS + [{"problem": "p"}]),
             _write(tmp_path / "b", ROWS))
  assert out.returncode == 2
  assert out.stderr.strip().count("\n") == 0
  assert "cannot read" in out.stderr
