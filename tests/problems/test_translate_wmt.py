"""WMT'14 translation through tfds, on tfds's offline mock data."""
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from t2tlite.data import problem as problem_lib
from t2tlite.data import datagen
from t2tlite.data import pipeline
from t2tlite.data import data_io
from t2tlite import registry
from t2tlite.data import vocab as vocab_lib
from t2tlite.problems import translate_wmt



@pytest.fixture
def mock_wmt():
  with tfds.testing.mock_data(num_examples=12,
                              policy=tfds.testing.MockPolicy.USE_CODE):
    yield


@pytest.mark.parametrize("name,lang", [("translate_ende_wmt", "de"),
                                       ("translate_enfr_wmt", "fr")])
def test_reads_the_tfds_builder(mock_wmt, tmp_path, name, lang):
  problem = registry.problem(name)
  assert problem.tfds_name == f"wmt14_translate/{lang}-en"
  pairs = list(problem.text_pairs(str(tmp_path), "dev"))
  assert len(pairs) == 12
  assert all(isinstance(s, str) and isinstance(t, str) for s, t in pairs)


def test_datagen_and_pipeline(mock_wmt, tmp_path, monkeypatch):
  monkeypatch.setattr(translate_wmt.TranslateEndeWmt, "vocab_size", 60)
  monkeypatch.setattr(translate_wmt.TranslateEndeWmt, "num_shards",
                      {"train": 2, "dev": 1, "test": 1})
  data_dir, tmp_dir = str(tmp_path / "data"), str(tmp_path / "tmp")
  os.makedirs(data_dir)
  problem = registry.problem("translate_ende_wmt")
  written = datagen.generate_data(problem, data_dir, tmp_dir)
  assert written == {"train": 12, "dev": 12, "test": 12}
  # Its own vocabulary, not the shared DDTP one.
  assert os.path.exists(vocab_lib.vocab_path(data_dir, "translate_ende_wmt"))
  assert [os.path.basename(p) for p in
          data_io.find_shards(data_dir, "translate_ende_wmt", "train")] == [
              "translate_ende_wmt-train-00000-of-00002",
              "translate_ende_wmt-train-00001-of-00002"]
  examples = list(pipeline.dataset(problem, data_dir, "test", None, False)
                  .as_numpy_iterator())
  assert len(examples) == 12
  src, tgt = next(iter(problem.text_pairs(tmp_dir, "test")))
  vocab = problem_lib.vocab(problem, data_dir)
  for ex in examples:
    for key in ("inputs", "targets"):
      assert ex[key].dtype == np.int64 and ex[key][-1] == vocab_lib.EOS_ID
  # The vocabulary round-trips the text up to whitespace.
  assert vocab.decode(examples[0]["inputs"]).split() == src.split()
  assert vocab.decode(examples[0]["targets"]).split() == tgt.split()
  rev = registry.problem("translate_ende_wmt_rev")
  assert problem_lib.spec(rev, data_dir).task_token == "to_en"
