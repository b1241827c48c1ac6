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


def test_codecs_encode_raw_values_into_the_stored_features():
  """What datagen writes comes from the codecs: a problem yields raw
  values (pixels, a class name, PCM, a transcript) and never encodes."""
  from t2tlite.data import image_utils
  fmnist = codecs.for_problem(registry.problem("image_fashion_mnist"), None)
  pixels = np.arange(28 * 28, dtype=np.uint8).reshape(28, 28)
  stored = fmnist.inputs.encode(pixels)
  assert (stored["image/height"], stored["image/width"]) == (28, 28)
  assert np.array_equal(image_utils.read_image(stored["image/encoded"], 1)
                        [:, :, 0], pixels)  # PNG: lossless
  assert fmnist.inputs.encode(stored["image/encoded"]) == stored  # bytes kept
  assert fmnist.targets.encode("Ankle boot") == {"label": 9}
  assert fmnist.targets.encode(3) == {"label": 3}
  with pytest.raises(ValueError, match="Sock"):
    fmnist.targets.encode("Sock")
  with pytest.raises(ValueError, match="10 classes"):
    fmnist.targets.encode(10)

  speech = codecs.for_problem(registry.problem("speech_tts_en_chars"), None)
  pcm = np.array([0, 1, -1, 32767], np.int16)
  assert speech.inputs.encode(pcm) == {"audio": pcm.tobytes()}
  with pytest.raises(ValueError, match="int16"):
    speech.inputs.encode(pcm.astype(np.float32))


def test_datagen_refuses_an_example_that_is_not_raw_inputs_and_targets(
    tmp_path):
  from t2tlite.data import data_io
  from t2tlite.data import datagen

  class Labels(text_problem.Text2ClassProblem):
    _registered_name = "labels_for_test"
    class_names = ("no", "yes")
    vocab_name = "char"
    num_shards = {"train": 1}
    rows = [{"inputs": "fine", "targets": "yes"},
            {"inputs": "bad", "targets": "maybe"}]

    def generate_examples(self, tmp_dir, split):
      yield from self.rows

  data = str(tmp_path / "data")
  with pytest.raises(data_io.DataError, match="example 1, targets.*maybe"):
    datagen.generate_data(Labels(), data, str(tmp_path))
  assert not data_io.find_shards(data, "labels_for_test", "train")
  Labels.rows = [{"inputs": "fine", "label": "yes"}]
  with pytest.raises(data_io.DataError, match="keys 'inputs' and 'targets'"):
    datagen.generate_data(Labels(), data, str(tmp_path))
  Labels.rows = [{"inputs": "fine", "targets": "yes"},
                 {"inputs": [104, 105, 1], "targets": 0}]  # ids kept as given
  assert datagen.generate_data(Labels(), data, str(tmp_path)) == {"train": 2}
  import tensorflow as tf
  records = []
  for path in data_io.find_shards(data, "labels_for_test", "train"):
    for raw in tf.data.TFRecordDataset(path):
      feats = tf.train.Example.FromString(raw.numpy()).features.feature
      records.append({k: list(feats[k].int64_list.value)
                      for k in ("inputs", "targets")})
  assert records[0]["inputs"] == [ord(c) + 3 for c in "fine"] + [1]
  assert records[1]["inputs"] == [104, 105, 1]
  assert [r["targets"] for r in records] == [[1], [0]]
