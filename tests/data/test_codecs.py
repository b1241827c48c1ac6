"""Codecs: each side of a problem found by name, swapped for _rev, and a
problem exportable exactly when both its codecs have a graph form."""
import numpy as np
import pytest

from t2tlite import metrics
from t2tlite import registry
from t2tlite.data import codecs
from t2tlite.data import problem as problem_lib
from t2tlite.data import text_problem
from t2tlite.hparams_lib import defaults


def test_codecs_follow_the_modalities_and_swap_for_rev():
  fwd = registry.problem("translate_ende_ddtp")
  rev = registry.problem("translate_ende_ddtp_rev")
  assert codecs.names(fwd) == ("text", "text")
  pair = codecs.for_problem(rev, None)
  assert (pair.inputs.key, pair.targets.key) == ("targets", "inputs")
  speech = codecs.for_problem(registry.problem("speech_tts_en_chars"), None)
  assert (speech.inputs.name, speech.targets.name) == ("audio", "transcript")
  parse = codecs.for_problem(registry.problem("parsing_english_silver"), None)
  assert (parse.inputs.name, parse.targets.name) == ("words", "tree")
  image = codecs.for_problem(registry.problem("image_fashion_mnist"), None)
  assert (image.inputs.name, image.targets.name) == ("image", "class_label")


def test_references_come_from_the_stored_record():
  speech = codecs.for_problem(registry.problem("speech_tts_en"), None)
  # The transcript as spoken, not the decoded subword targets.
  assert speech.targets.reference(
      {"transcript": b"Hello, world.", "targets": np.array([5, 1])}) == (
          "Hello, world.")
  fmnist = codecs.for_problem(registry.problem("image_fashion_mnist"), None)
  assert fmnist.targets.reference({"label": np.array(9)}) == "Ankle boot"


def test_a_codec_without_a_graph_form_refuses_export():
  parse = codecs.for_problem(registry.problem("parsing_english_silver"), None)
  with pytest.raises(codecs.ExportError, match="words"):
    parse.inputs.graph_inputs(defaults())
  with pytest.raises(codecs.ExportError, match="tree"):
    parse.targets.graph_text()
  # Class labels are no input a SavedModel can take.
  label_in = codecs.Codec(registry.problem("image_fashion_mnist"), "inputs",
                          None, "image")
  with pytest.raises(codecs.ExportError, match="cannot hold"):
    label_in.graph_inputs(defaults())


def test_a_users_codec_is_found_by_name_and_an_unknown_one_is_an_error():

  @registry.register_codec("upper_text_for_test")
  class Upper(codecs.Codec):
    def from_line(self, line, hparams):
      return np.array([ord(c) for c in line.upper()], np.int64), None

    def to_text(self, output, decode_hparams, line=None):
      return "".join(chr(i) for i in output)

  try:
    class Shout(problem_lib.Problem):
      codecs = ("upper_text_for_test", "upper_text_for_test")

    pair = codecs.for_problem(Shout(), None)
    ids, warning = pair.inputs.from_line("hi", defaults())
    assert warning is None and pair.targets.to_text(ids, {}) == "HI"

    class Typo(problem_lib.Problem):
      codecs = (None, "upper_txt_for_test")

    with pytest.raises(registry.RegistryError,
                       match="upper_text_for_test"):
      codecs.for_problem(Typo(), None)
  finally:
    registry.codecs.unregister("upper_text_for_test")


def test_metrics_are_the_ones_the_problem_names():
  class Sentiment(text_problem.Text2ClassProblem):
    class_names = ("neg", "pos")

  # accuracy and top5_accuracy are one scorer: it runs once.
  assert metrics.score(Sentiment(), ["pos", "neg"], ["pos", "pos"]) == {
      "accuracy": 0.5}
  speech = registry.problem("speech_tts_en")
  out = metrics.score(speech, ["a b", "a b"], ["a b", "a c"])
  assert out == {"wer": 25.0, "cer": 16.67, "distinct": 0.5}  # 1 of 6 chars

  class Misnamed(problem_lib.Problem):
    metrics = ("blue",)

  with pytest.raises(registry.RegistryError, match="bleu"):
    metrics.score(Misnamed(), ["x"], ["x"])
