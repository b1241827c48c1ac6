"""Re-decodes every kept checkpoint of a learning-curve run on dev and adds
the decoded metrics to its eval log (e.g. after a decoding change such as
constrained parse decoding): docs/learning/runs/NAME/eval_redecoded.jsonl.

  python scripts/redecode_curve.py --output_dir=O --name=NAME --limit=200 \
      [--decode_hparams=beam_size=1]
"""
import argparse
import json
import os

import tensorflow as tf

import t2tlite  # noqa: F401
from t2tlite.decode import decoder as decoder_lib


def main():
  ap = argparse.ArgumentParser(description=__doc__)
  ap.add_argument("--output_dir", required=True)
  ap.add_argument("--name", required=True)
  ap.add_argument("--limit", type=int, default=200)
  ap.add_argument("--decode_hparams", default="beam_size=1")
  args = ap.parse_args()
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  dest = os.path.join(root, "docs", "learning", "runs", args.name)
  with open(os.path.join(args.output_dir, "eval.jsonl")) as f:
    evals = {json.loads(l)["step"]: json.loads(l) for l in f if l.strip()}
  state = tf.train.get_checkpoint_state(args.output_dir)
  out = []
  for path in state.all_model_checkpoint_paths:
    step = int(path.rsplit("-", 1)[-1])
    dec = decoder_lib.Decoder(args.output_dir, checkpoint=path,
                              decode_hparams_text=args.decode_hparams)
    for name in dec.problems:
      scores, _, _ = dec.evaluate(name, "dev", args.limit)
      rec = dict(evals.get(step, {"step": step, "problem": name}))
      rec = {k: v for k, v in rec.items() if not k.startswith("decoded_")}
      rec.update({f"decoded_{k}": v for k, v in scores.items()},
                 decode_hparams=args.decode_hparams)
      out.append(rec)
      print(json.dumps({k: rec[k] for k in rec if k in (
          "step", "wall_s") or k.startswith("decoded_")}), flush=True)
  os.makedirs(dest, exist_ok=True)
  with open(os.path.join(dest, "eval_redecoded.jsonl"), "w") as f:
    for rec in out:
      f.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
  main()
