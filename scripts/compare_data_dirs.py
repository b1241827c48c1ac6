"""Whether two data_dirs hold the same examples: every TFRecord shard and
vocabulary file byte for byte, every .meta.json but its timing. Used to
show that a change to datagen left the storage layout as it was:

  t2tlite-datagen --problem=P1,P2 --data_dir=NEW --tmp_dir=TMP
  python scripts/compare_data_dirs.py OLD NEW

Prints one line per file that differs and a summary; exit 1 if any does.
"""
import json
import os
import sys


def meta(path):
  with open(path) as f:
    m = json.load(f)
  m.pop("seconds", None)
  return m


def main(old, new):
  names = sorted(os.listdir(new))
  differ = []
  for name in names:
    a, b = os.path.join(old, name), os.path.join(new, name)
    if not os.path.exists(a):
      differ.append(f"{name}: only in {new}")
    elif name.endswith(".meta.json"):
      if meta(a) != meta(b):
        differ.append(f"{name}: metadata differs")
    else:
      with open(a, "rb") as fa, open(b, "rb") as fb:
        if fa.read() != fb.read():
          differ.append(f"{name}: bytes differ")
  for line in differ:
    print(line)
  print(f"{len(names)} files in {new}: {len(names) - len(differ)} identical "
        f"to {old}, {len(differ)} differ")
  return 1 if differ else 0


if __name__ == "__main__":
  if len(sys.argv) != 3:
    print("usage: compare_data_dirs.py OLD_DATA_DIR NEW_DATA_DIR",
          file=sys.stderr)
    sys.exit(2)
  sys.exit(main(*sys.argv[1:]))
