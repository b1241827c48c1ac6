"""Times speech_tts_en datagen (espeak-ng and flite) and reports its size.

  python benchmarks/bench_speech_datagen.py --data_dir=/tmp/sp/data \
      --tmp_dir=/tmp/sp/tmp [--train=10000] [--workers=2]

The data_dir must be new (or lack speech_tts_en shards): datagen skips a
split that is already there.
"""
import argparse
import glob
import os
import time

from t2tlite import data_io
from t2tlite.problems import speech_tts


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data_dir", required=True)
  parser.add_argument("--tmp_dir", required=True)
  parser.add_argument("--train", type=int, default=10000)
  parser.add_argument("--eval", type=int, default=500)
  parser.add_argument("--workers", type=int, default=0)
  args = parser.parse_args()
  problem = speech_tts.SpeechTtsEn()
  problem.num_utterances = {"train": args.train, "dev": args.eval,
                            "test": args.eval}
  problem.workers = args.workers or None
  start = time.time()
  with data_io.datagen_lock(args.data_dir):
    written = problem.generate_data(args.data_dir, args.tmp_dir)
  seconds = time.time() - start
  size = sum(os.path.getsize(p) for p in glob.glob(
      os.path.join(args.data_dir, "speech_tts_en-*-of-*")))
  total = sum(written.values())
  print(f"wrote {written} in {seconds:.0f} s ({total / seconds:.1f} "
        f"utterances/s), {size / 2 ** 20:.0f} MiB of shards")
  for split in written:
    meta = data_io.read_meta(args.data_dir, "speech_tts_en", split)
    print(split, meta["examples"], "examples,", meta["seconds"], "s")


if __name__ == "__main__":
  main()
