"""Decoded metrics during training: an after_eval hook for the trainer.

The trainer knows nothing of decoding; the CLI (--eval_decode) hands it
this hook, which decodes the first examples of every problem's dev split
with the in-memory model and reports each problem's own metric (BLEU,
accuracy, WER, bracket F1, ...) beside the teacher-forced eval.
"""
from t2tlite.decode import decoder


def decoded_metrics(num_examples, decode_hparams="beam_size=1"):
  """An after_eval hook: each problem's own metric (BLEU, accuracy, WER,
  bracket F1, ...) on the first `num_examples` of its dev split, decoded
  with the in-memory model."""
  cache = {}

  def hook(trainer, step):
    if "dec" not in cache:
      cache["dec"] = decoder.Decoder(trainer.output_dir, trainer.data_dir,
                                     decode_hparams, model=trainer.model)
    out = {}
    for name in trainer.names:
      scores, _, _ = cache["dec"].evaluate(name, "dev", num_examples)
      out[name] = {f"decoded_{k}": v for k, v in scores.items()}
    return out

  return hook
