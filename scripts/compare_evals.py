"""Did two runs train identically? Compares two eval.jsonl dev curves.

  python scripts/compare_evals.py OLD/eval.jsonl NEW/eval.jsonl

Every evaluation (step, problem) of either file is matched with the other
file's; the dev loss, accuracy and decoded metrics must be equal to the
last digit (wall times are not compared). Prints one line per difference
and a summary; exit status 0 when every evaluation is equal, 1 otherwise,
2 for a file that is missing or not an eval log.
"""
import json
import sys

SKIP = {"wall_s"}


def read(path):
  try:
    with open(path) as f:
      rows = [json.loads(line) for line in f if line.strip()]
    return {(r["step"], r["problem"]): r for r in rows}
  except (OSError, ValueError, KeyError, TypeError) as e:
    print(f"compare_evals: {path}: not an eval log ({e})", file=sys.stderr)
    sys.exit(2)


def main(argv):
  if len(argv) != 3:
    print("usage: " + __doc__.splitlines()[2].strip(), file=sys.stderr)
    return 2
  old, new = read(argv[1]), read(argv[2])
  differ = 0
  for key in sorted(set(old) | set(new), key=lambda k: (k[0], k[1])):
    if key not in old or key not in new:
      print(f"{key[1]} step {key[0]}: only in "
            f"{argv[1] if key in old else argv[2]}")
      differ += 1
      continue
    a, b = old[key], new[key]
    fields = sorted((set(a) | set(b)) - SKIP)
    bad = [f for f in fields if a.get(f) != b.get(f)]
    for f in bad:
      print(f"{key[1]} step {key[0]}: {f} {a.get(f)} != {b.get(f)}")
    differ += bool(bad)
  total = len(set(old) | set(new))
  print(f"{total - differ} of {total} evaluations equal")
  return 0 if differ == 0 else 1


if __name__ == "__main__":
  sys.exit(main(sys.argv))
