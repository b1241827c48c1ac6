"""Transcribes the five real LibriVox recordings of Debian's
pocketsphinx-testdata package with a trained speech run; prints each
output beside its reference, then WER, CER and the share of distinct
outputs, and, for scale, the WER of pocketsphinx's own output on the same
clips (the package's test-lm.match, scored the same way).

  python scripts/speech_librivox.py OUTPUT_DIR [--problem speech_tts_en]

The references are docs/learning/speech/librivox_transcripts.tsv (copied
from the package's transcription file). Read speech by one human reader,
book English of 1811: far from speech_tts_en's synthetic voices and
package descriptions, so expect a high WER from a model trained on those
alone.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUDIO_DIR = "/usr/share/pocketsphinx/test/data/librivox"
REFS = os.path.join(ROOT, "docs", "learning", "speech",
                    "librivox_transcripts.tsv")


def read_references(path):
  """[(utterance id, transcript)] of a `id<TAB>text` file; # comments."""
  out = []
  with open(path, encoding="utf-8") as f:
    for line in f:
      line = line.rstrip("\n")
      if line and not line.startswith("#"):
        uid, text = line.split("\t", 1)
        out.append((uid, text))
  return out


def read_pocketsphinx_hyps(path):
  """{utterance id: text} of a Sphinx .match file ('text (id score)')."""
  out = {}
  with open(path, encoding="utf-8") as f:
    for line in f:
      text, _, tail = line.rstrip("\n").rpartition(" (")
      out[tail.split()[0]] = text
  return out


def main(argv=None):
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("output_dir", help="a trained run with a speech problem")
  ap.add_argument("--problem", default="speech_tts_en")
  ap.add_argument("--audio_dir", default=AUDIO_DIR)
  ap.add_argument("--references", default=REFS)
  ap.add_argument("--decode_hparams", default="beam_size=4,batch_size=8")
  ap.add_argument("--checkpoint", default=None)
  args = ap.parse_args(argv)

  refs = read_references(args.references)
  wavs = [os.path.join(args.audio_dir, uid + ".wav") for uid, _ in refs]
  missing = [w for w in wavs if not os.path.isfile(w)]
  if missing:
    sys.exit(f"missing {missing[0]}: install Debian's pocketsphinx-testdata "
             "(apt-get install -y pocketsphinx-testdata)")

  # pylint: disable=import-outside-toplevel
  from t2tlite.decode import decoder
  from t2tlite import metrics
  from t2tlite.metrics import wer as metrics_wer
  dec = decoder.Decoder(args.output_dir, None, args.decode_hparams,
                        checkpoint=args.checkpoint)
  problem = dec.problem(args.problem)
  hyps = dec.decode_lines(args.problem, wavs,
                          report=lambda m: print(m, file=sys.stderr))
  for (uid, ref), hyp in zip(refs, hyps):
    print(f"{uid}\n  reference: {ref}\n  output:    {hyp}")
  texts = [t for _, t in refs]
  scores = metrics.score(problem, hyps, texts)
  print(f"\nLibriVox ({len(refs)} clips, {args.output_dir}): " +
        ", ".join(f"{k} {v:.4g}" for k, v in scores.items()))
  match = os.path.join(args.audio_dir, "test-lm.match")
  if os.path.isfile(match):
    ps = read_pocketsphinx_hyps(match)
    ps_hyps = [ps.get(uid, "") for uid, _ in refs]
    ps_scores = metrics_wer.wer_cer(ps_hyps, texts)
    print("pocketsphinx 0.8 with its test LM (test-lm.match): " +
          ", ".join(f"{k} {v:.4g}" for k, v in ps_scores.items()))
  return scores


if __name__ == "__main__":
  main()
