"""Property-based checks of the text encoders and the TFRecord reader."""
import os
import tempfile

from hypothesis import given, settings, strategies as st
import pytest

import t2tlite  # noqa: F401
from t2tlite.data import data_io
from t2tlite.data import vocab as vocab_lib

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Beachten Sie, dass dieses Modul als experimentell markiert ist.",
    "Ce paquet contient la bibliothèque Python 3.",
    "Numbers 1234567890 and symbols !?;:()[]{}<>@#$%&*+-=/\\|~^_`'\"",
] * 50


@pytest.fixture(scope="module")
def subword(tmp_path_factory):
  path = str(tmp_path_factory.mktemp("v") / "vocab.fuzz.model")
  return vocab_lib.train_subword_vocab(path, SENTENCES, 150)


# Characters the training text covers, in any order and spacing: the
# subword vocabulary must give them back exactly (sentencepiece normalises
# whitespace runs, so words are joined by single spaces).
WORD = st.text(alphabet=sorted(set("".join(SENTENCES)) - {" "}), min_size=1,
               max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(WORD, min_size=1, max_size=12))
def test_subword_round_trip(subword, words):
  text = " ".join(words)
  assert subword.decode(subword.encode(text) + [vocab_lib.EOS_ID]) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_char_round_trip_on_any_unicode(text):
  v = vocab_lib.CharVocab()
  ids = v.encode(text)
  assert all(i > vocab_lib.UNK_ID for i in ids)
  assert v.decode(ids + [vocab_lib.EOS_ID, 7]) == text


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_tfrecord_reader_on_random_bytes(data):
  with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "junk")
    with open(path, "wb") as f:
      f.write(data)
    try:
      data_io.check_tfrecord(path)  # a clean file or a DataError
    except data_io.DataError as e:
      assert path in str(e)
