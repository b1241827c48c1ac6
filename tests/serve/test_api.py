"""t2tlite.load(output_dir).predict: the decoder's outputs, as a library."""
import pytest
import usr_dir_example  # noqa: F401  (registers zen_reverse)

from t2tlite.serve import api
from t2tlite.decode import decoder


def test_predict_equals_decoder(zen_run):
  lines = usr_dir_example.zen_lines()[:10]
  model = api.load(zen_run, decode_hparams="beam_size=2")
  assert model.problems == ["zen_reverse"]
  got = model.predict("zen_reverse", lines)
  want = decoder.Decoder(zen_run, decode_hparams_text="beam_size=2"
                         ).decode_lines("zen_reverse", lines)
  assert got == want
  # The tiny model learned the task: most words land in reversed order.
  right = total = 0
  for g, l in zip(got, lines):
    want_words = list(reversed(l.split()))
    right += sum(a == b for a, b in zip(g.split(), want_words))
    total += len(want_words)
  assert right / total > 0.6, (right, total, got)
  assert model.predict("zen_reverse", []) == []


def test_predict_errors(zen_run):
  model = api.load(zen_run)
  with pytest.raises(api.PredictError, match="input 1: empty"):
    model.predict("zen_reverse", ["Flat is better than nested.", "  "])
  with pytest.raises(api.PredictError, match="input 0: expected str"):
    model.predict("zen_reverse", [3])
  with pytest.raises(TypeError):
    model.predict("zen_reverse", "not a list")
  with pytest.raises(decoder.DecodeError, match="zen_reverse"):
    model.predict("image_digits", ["x.png"])
