"""Whether two training runs evaluated the same: their eval.jsonl files
(one line per dev evaluation, written by t2tlite-trainer) compared entry by
entry on everything but the wall time.

  python scripts/compare_evals.py OLD/eval.jsonl NEW/eval.jsonl

Prints one line per differing evaluation and a count; exits 1 when any
differs or the two files hold different evaluations, 2 when a file is
unreadable or evaluates one problem twice at the same step (a resumed run
that appended to an old log: which of the two to compare is not known).
"""
import json
import sys

IGNORED = ("wall_s",)
USAGE = "usage: python scripts/compare_evals.py OLD/eval.jsonl NEW/eval.jsonl"


def load(path):
  try:
    with open(path) as f:
      rows = [json.loads(line) for line in f if line.strip()]
  except (OSError, ValueError) as e:
    print(f"compare_evals: cannot read {path}: {e}", file=sys.stderr)
    raise SystemExit(2) from None
  out = {}
  for r in rows:
    try:
      key = (r["step"], r["problem"])
    except (KeyError, TypeError):
      print(f"compare_evals: cannot read {path}: an entry without a step and "
            f"a problem: {str(r)[:80]}", file=sys.stderr)
      raise SystemExit(2) from None
    if key in out:
      print(f"compare_evals: {path} evaluates {key[1]} twice at step "
            f"{key[0]}", file=sys.stderr)
      raise SystemExit(2)
    out[key] = {k: v for k, v in r.items() if k not in IGNORED}
  return out


def main(argv):
  if len(argv) != 3:
    print(USAGE, file=sys.stderr)
    return 2
  old, new = load(argv[1]), load(argv[2])
  keys = sorted(set(old) | set(new))
  differ = 0
  for key in keys:
    if old.get(key) != new.get(key):
      differ += 1
      where = ("only in " + (argv[1] if key in old else argv[2])
               if (key in old) != (key in new)
               else f"{old[key]} != {new[key]}")
      print(f"step {key[0]} {key[1]}: {where}")
  print(f"{len(keys)} evaluations, {len(keys) - differ} equal, "
        f"{differ} differ")
  return 1 if differ else 0


if __name__ == "__main__":
  sys.exit(main(sys.argv))
