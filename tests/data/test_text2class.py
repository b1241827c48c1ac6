"""Text -> class label: a user's problem in a few lines, through datagen,
the trainer and the decoder."""
import codecs
import contextlib
import io

import numpy as np
import pytest

from t2tlite.data import problem as problem_lib
from t2tlite import registry
from t2tlite.data import datagen
from t2tlite.data import text_problem
from t2tlite.decode import decoder
from t2tlite.train import trainer


def zen_lines():
  with contextlib.redirect_stdout(io.StringIO()):  # `import this` prints
    import this  # pylint: disable=import-outside-toplevel
  return [l for l in codecs.decode(this.s, "rot13").splitlines() if l][1:]


class ZenOrder(text_problem.Text2ClassProblem):
  """Real lines of the Zen of Python, as written or with their words in
  reverse order: which is it?"""
  class_names = ("forward", "reversed")
  vocab_size = 120

  def text_labels(self, tmp_dir, split):
    lines = zen_lines()
    lines = {"train": lines[:13], "dev": lines[13:16],
             "test": lines[16:]}[split]
    for line in lines * (8 if split == "train" else 1):
      yield line, "forward"
      yield " ".join(reversed(line.split())), 1  # by index, too


@pytest.fixture(scope="module")
def zen_order():
  name = "zen_order_test"
  registry.register_problem(name)(ZenOrder)
  yield name
  registry.problems.unregister(name)


def test_text_to_class_label_trains_and_decodes(zen_order, tmp_path):
  data_dir, out = str(tmp_path / "data"), str(tmp_path / "out")
  datagen.generate([zen_order], data_dir, str(tmp_path / "tmp"))
  p = registry.problem(zen_order)
  spec = problem_lib.spec(p, data_dir)
  assert (spec.input_modality, spec.target_modality) == ("text",
                                                          "class_label")
  assert spec.target_vocab_size == 2
  metrics = trainer.train(
      problems=[zen_order], model="transformer",
      hparams_set="transformer_tiny", data_dir=data_dir, output_dir=out,
      train_steps=4, eval_every=4, eval_steps=2)
  assert np.isfinite(metrics[zen_order]["loss"])
  dec = decoder.Decoder(out, data_dir=data_dir,
                        decode_hparams_text="top_k=2")
  lines = dec.decode_lines(zen_order, ["Simple is better than complex.",
                                       "complex. than better is Simple"],
                           report=lambda msg: None)
  for line in lines:
    names = [item.split(":")[0] for item in line.split("; ")]
    assert sorted(names) == ["forward", "reversed"]
  scores, hyps, refs = dec.evaluate(zen_order, "test")
  n_test = len(zen_lines()[16:])
  assert len(hyps) == len(refs) == 2 * n_test
  assert sorted(set(refs)) == ["forward", "reversed"]
  assert 0.0 <= scores["accuracy"] <= 1.0


def test_a_label_outside_the_class_names_is_an_error(zen_order):
  p = registry.problem(zen_order)
  assert p.label_id("reversed") == 1 and p.label_id(0) == 0
  with pytest.raises(ValueError, match="'sideways' is not one of"):
    p.label_id("sideways")
  with pytest.raises(ValueError, match="label 2 is not one of 2 classes"):
    p.label_id(2)
