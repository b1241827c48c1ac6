"""The Python API: load a trained model once, predict on raw inputs.

  import t2tlite
  model = t2tlite.load("/tmp/t2t_train/multimodel")
  model.predict("translate_ende_ddtp", ["How are you?", "Good morning."])
  model.predict("image_fashion_mnist", ["shoe.png", open("bag.jpg", "rb").read()],
                top_k=3)

Inputs go through the same code as t2tlite-decoder (the problem's codecs),
in length-sorted batches, so predictions equal the decoder's lines.
"""
import os
import tempfile

import numpy as np

from t2tlite.decode import decoder as decoder_lib
from t2tlite import errors


class PredictError(errors.UserError, ValueError):
  """An input the problem cannot use (unreadable image, empty text, ...)."""


class Model:
  """A trained output_dir with its model loaded; see `load`."""

  def __init__(self, dec):
    self._dec = dec

  @property
  def problems(self):
    """The problems this model was trained on."""
    return list(self._dec.problems)

  def predict(self, problem, inputs, top_k=None, return_beams=None):
    """Predictions for a list of raw inputs, one per input, in order.

    Args:
      problem: one of `self.problems`.
      inputs: strings for text problems; file paths (str) or the files'
        bytes for image and audio problems.
      top_k: class-label problems only: how many (label, probability)
        pairs to return per input (default: decode_hparams' top_k).
      return_beams: sequence outputs only: return every hypothesis of the
        search (the beams; the samples when sampling) with its score
        (default: decode_hparams' return_beams).
    Returns:
      A list of strings (text outputs); with return_beams, a list of
      [(text, score), ...] best first; for class-label problems, a list
      of [(label, probability), ...] best first.
    Raises:
      PredictError naming the first input that cannot be used.
    """
    dec = self._dec
    dec.problem(problem)  # a clear error for a problem it was not trained on
    if isinstance(inputs, (str, bytes)):
      raise TypeError("predict takes a list of inputs")
    with tempfile.TemporaryDirectory(prefix="t2tlite_predict_") as tmp:
      arrays = [self._model_input(problem, x, n, tmp)
                for n, x in enumerate(inputs)]
    outs = dec.decode_arrays(problem, arrays,
                             return_beams=return_beams) if arrays else []
    if not dec.model.target_modality(problem).targets_are_sequence:
      k = int(top_k or dec.dhp.top_k or 1)
      names = dec.codecs(problem).targets.class_names
      return [_ranked(names, probs, k) for probs in outs]
    text = lambda ids: dec.format_output(problem, ids)
    return [[(text(ids), score) for ids, score in o] if isinstance(o, list)
            else text(o) for o in outs]

  def _model_input(self, problem, x, n, tmp):
    if isinstance(x, (bytes, bytearray)):
      # Problems read image and audio files by path: give the bytes one.
      path = os.path.join(tmp, f"input_{n}")
      with open(path, "wb") as f:
        f.write(x)
      x = path
    elif not isinstance(x, str):
      raise PredictError(f"input {n}: expected str or bytes, got "
                         f"{type(x).__name__}")
    if not x.strip():
      raise PredictError(f"input {n}: empty")
    try:
      arr, _ = self._dec.model_input(problem, x.rstrip("\n"))
    except ValueError as e:
      raise PredictError(f"input {n}: {e}") from None
    return arr


def _ranked(class_names, probs, k):
  probs = np.asarray(probs, np.float64).reshape(-1)
  best = np.argsort(-probs, kind="stable")[:k]
  return [(class_names[i], float(probs[i])) for i in best]


def load(output_dir, data_dir=None, decode_hparams="", checkpoint=None,
         average=None):
  """Loads a trained output_dir (its latest checkpoint) for prediction.

  decode_hparams as for t2tlite-decoder, e.g. "beam_size=1,batch_size=64".
  average=N: the mean of the model variables of the run's last N
  checkpoints (ending with `checkpoint` if given), as
  t2tlite-decoder --checkpoint_average=N.
  """
  return Model(decoder_lib.Decoder(output_dir, data_dir, decode_hparams,
                                   checkpoint=checkpoint, average=average))
