"""Datagen wall time and peak memory on 2 cores: prints figures only.

  python benchmarks/bench_datagen.py [--only=translate,speech,parsing,memory]
      [--source_data_dir=/tmp/joint/data] [--source_tmp_dir=/tmp/joint/tmp]
      [--json=PATH] [--quick]

Each datagen runs t2tlite.data.datagen.generate in a fresh subprocess, pinned to
2 cores, on a fresh temporary data_dir and tmp_dir. Wall time is the
subprocess's (interpreter and TensorFlow start included: what a user of
t2tlite-datagen waits); peak memory is its ru_maxrss from wait4(), which
covers the process and the engine processes it waited for.

translate  translate_ende_ddtp with its vocabulary (target < 60 s): from
           apt's fetched DDTP indexes (Translation-en/de/fr.txt, copied from
           source_tmp_dir: fetching is network time), so parsing and
           aligning the indexes, training the shared 8k vocabulary and
           writing every split are timed.
speech     --speech_utterances (10,000) speech_tts_en train utterances
           (target < 5 min), train split only (the class's num_utterances
           and num_shards set in the subprocess; the bench that times speech
           alone, bench_speech_datagen.py, is folded in here).
parsing    --parse_sentences (10,000) DDTP sentences through link-grammar
           for parsing_english_silver, train split only (the class's
           max_sentences; about 75% give a complete parse and are kept).
memory     peak RSS of --memory_problem at the --memory_sizes corpus sizes
           (default speech_tts_en at 2,000 and 8,000): flat if datagen
           streams its corpus.
speech, parsing and memory start from the shared vocabulary and the cached
English sentences of source_data_dir / source_tmp_dir (they are not what
those problems' datagen costs). --quick: tiny counts, and translate reuses
the cached aligned pairs and trains its vocabulary on 3,000 lines.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import bench_common  # noqa: E402

TARGETS_S = {"translate": 60, "speech": 300, "parsing": 180}
PROBLEMS = {"translate": "translate_ende_ddtp", "speech": "speech_tts_en",
            "parsing": "parsing_english_silver"}
VOCAB = "vocab.shared_subword_8k"


# --- in the subprocess ------------------------------------------------------
def child(spec):
  """Applies the size settings of `spec`, runs datagen, prints its result."""
  cores = sorted(os.sched_getaffinity(0))
  from t2tlite.data import data_io
  from t2tlite.data import datagen
  from t2tlite.problems import ddtp
  from t2tlite.problems import parsing
  from t2tlite.problems import speech_tts
  name, n = spec["problem"], spec.get("examples")
  if name == "speech_tts_en":
    speech_tts.SpeechTtsEn.num_utterances = {"train": n}
    speech_tts.SpeechTtsEn.num_shards = {"train": 10}
    speech_tts.SpeechTtsEn.workers = len(cores)  # cpu_count ignores pinning
  elif name == "parsing_english_silver":
    parsing.ParsingEnglishSilver.max_sentences = {"train": n}
    parsing.ParsingEnglishSilver.num_shards = {"train": 4}
    parsing.ParsingEnglishSilver.processes = len(cores)
  if spec.get("vocab_lines"):
    ddtp.MAX_VOCAB_LINES = spec["vocab_lines"]
  seconds = datagen.generate([name], spec["data_dir"], spec["tmp_dir"])
  written = {}
  for split in ("train", "dev", "test"):
    meta = data_io.read_meta(spec["data_dir"], name, split)
    if meta:
      written[split] = {"examples": meta["examples"],
                        "mib": sum(meta["shard_bytes"]) / 2 ** 20}
  print("RESULT " + json.dumps({"generate_s": seconds[name],
                                "written": written, "cores": len(cores)}))


# --- in the parent ----------------------------------------------------------
def _link(src, dst):
  os.makedirs(os.path.dirname(dst), exist_ok=True)
  os.symlink(os.path.abspath(src), dst)


def prepare(part, root, args, quick):
  """A fresh data_dir and tmp_dir under root, with what `part` starts from."""
  data_dir, tmp_dir = os.path.join(root, "data"), os.path.join(root, "tmp")
  os.makedirs(data_dir)
  src_ddtp = os.path.join(args.source_tmp_dir, "ddtp")
  cache = os.path.join(src_ddtp, "cache-v1")
  for lang in ("en", "de", "fr"):
    _link(os.path.join(src_ddtp, f"Translation-{lang}.txt"),
          os.path.join(tmp_dir, "ddtp", f"Translation-{lang}.txt"))
  cached = []
  if part == "translate" and quick:
    cached = [f"pairs.de.{s}.tsv" for s in ("train", "dev", "test")]
  elif part != "translate":
    cached = [f"english.{s}.txt" for s in ("train", "dev", "test")]
    for ext in (".model", ".json"):
      shutil.copyfile(os.path.join(args.source_data_dir, VOCAB + ext),
                      os.path.join(data_dir, VOCAB + ext))
  for name in cached:
    _link(os.path.join(cache, name),
          os.path.join(tmp_dir, "ddtp", "cache-v1", name))
  return data_dir, tmp_dir


def run_child(spec, cores):
  """(wall seconds, peak RSS bytes, child's result) of one datagen."""
  with tempfile.TemporaryFile("w+") as out, \
      tempfile.TemporaryFile("w+") as err:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--_child",
         json.dumps(spec)], stdout=out, stderr=err,
        preexec_fn=lambda: os.sched_setaffinity(0, cores))
    # wait4, not RUSAGE_CHILDREN: the latter is a maximum over every child
    # this process has reaped, so a big first run would mask later ones.
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    lines = [l for l in out.read().splitlines() if l.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
      err.seek(0)
      tail = "\n".join(err.read().strip().splitlines()[-8:])
      raise RuntimeError(f"datagen {spec['problem']} failed "
                         f"(exit {proc.returncode}):\n{tail}")
  return wall, usage.ru_maxrss * 1024, json.loads(lines[-1][len("RESULT "):])


def one(part, problem, examples, args, cores, quick, vocab_lines=0):
  root = tempfile.mkdtemp(prefix=f"bench_datagen_{part}_", dir=args.work_dir)
  try:
    data_dir, tmp_dir = prepare(part, root, args, quick)
    spec = {"problem": problem, "examples": examples, "data_dir": data_dir,
            "tmp_dir": tmp_dir, "vocab_lines": vocab_lines}
    wall, rss, res = run_child(spec, cores)
  finally:
    shutil.rmtree(root, ignore_errors=True)
  res.update(wall_s=wall, peak_rss_bytes=rss, requested=examples)
  return res


def _verdict(value, target):
  return f"{value:.0f} s  (target < {target} s: " + (
      "met)" if value < target else "MISSED)")


def _written(res):
  return ", ".join(f"{v['examples']:,} {s} ({v['mib']:.0f} MiB)"
                   for s, v in res["written"].items())


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--only", default="translate,speech,parsing,memory")
  parser.add_argument("--source_data_dir", default="/tmp/joint/data")
  parser.add_argument("--source_tmp_dir", default="/tmp/joint/tmp")
  parser.add_argument("--work_dir", default=None,
                      help="where the temporary data_dirs go")
  parser.add_argument("--cores", type=int, default=2)
  parser.add_argument("--speech_utterances", type=int, default=10000)
  parser.add_argument("--parse_sentences", type=int, default=10000)
  parser.add_argument("--memory_problem", default="speech_tts_en",
                      choices=["speech_tts_en", "parsing_english_silver"])
  parser.add_argument("--memory_sizes", default="2000,8000")
  bench_common.add_json_flag(parser, "bench_datagen")
  parser.add_argument("--quick", action="store_true",
                      help="smoke run with tiny counts")
  parser.add_argument("--_child", help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args._child:  # pylint: disable=protected-access
    child(json.loads(args._child))  # pylint: disable=protected-access
    return
  if args.quick:
    args.speech_utterances, args.parse_sentences = 12, 40
    args.memory_sizes = "10,40"
  cores = sorted(os.sched_getaffinity(0))[:args.cores]
  parts = [p.strip() for p in args.only.split(",") if p.strip()]
  print(f"datagen pinned to cores {cores} (of {os.cpu_count()} visible); "
        "wall time includes starting Python and TensorFlow")
  results = {}
  counts = {"translate": None, "speech": args.speech_utterances,
            "parsing": args.parse_sentences}
  for part in ("translate", "speech", "parsing"):
    if part not in parts:
      continue
    res = one(part, PROBLEMS[part], counts[part], args, cores, args.quick,
              vocab_lines=3000 if args.quick and part == "translate" else 0)
    res["target_s"] = TARGETS_S[part]
    res["met"] = res["wall_s"] < TARGETS_S[part]
    results[part] = res
    what = {"translate": "with vocabulary",
            "speech": f"{counts['speech']:,} utterances",
            "parsing": f"{counts['parsing']:,} sentences parsed"}[part]
    train = res["written"].get("train", {}).get("examples", 0)
    print(f"datagen {PROBLEMS[part]} ({what}): "
          f"{_verdict(res['wall_s'], TARGETS_S[part])}; generate() "
          f"{res['generate_s']:.0f} s, {train / res['generate_s']:.0f} "
          f"examples/s; wrote {_written(res)}; peak RSS "
          f"{res['peak_rss_bytes'] / 2 ** 20:,.0f} MiB")
  if "memory" in parts:
    sizes = [int(s) for s in args.memory_sizes.split(",")]
    part = [k for k, v in PROBLEMS.items() if v == args.memory_problem][0]
    runs = [one(part, args.memory_problem, n, args, cores, args.quick)
            for n in sizes]
    mib = [r["peak_rss_bytes"] / 2 ** 20 for r in runs]
    growth = mib[-1] / mib[0]
    results["memory"] = {"problem": args.memory_problem, "sizes": sizes,
                         "runs": runs, "peak_rss_mib": mib,
                         "growth": growth}
    print(f"datagen memory {args.memory_problem}: " + "  vs  ".join(
        f"{n:,} examples {m:,.0f} MiB ({r['wall_s']:.0f} s)"
        for n, m, r in zip(sizes, mib, runs)) +
          f"  -> x{growth:.2f} for x{sizes[-1] / sizes[0]:.0f} the corpus "
          "(target: flat)")
  bench_common.write_json(args.json, {
      "settings": {"cores": cores, "quick": args.quick,
                   "source_data_dir": args.source_data_dir,
                   "source_tmp_dir": args.source_tmp_dir},
      "targets_s": TARGETS_S, "results": results})


if __name__ == "__main__":
  main()
