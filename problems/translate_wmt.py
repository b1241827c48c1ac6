"""WMT'14 English-German and English-French, the paper's translation data.

Read through tensorflow-datasets (`wmt14_translate/de-en`, `/fr-en`), which
downloads and prepares the corpora on first use (several GB; needs the
internet). Each problem trains its own 8k subword vocabulary on a bounded
sample spread over the train split. Splits: train, newstest2013 as dev
(tfds "validation"), newstest2014 as test.
"""
import os

from t2tlite import registry
from t2tlite import system_deps
from t2tlite.data import text_problem

_TFDS_SPLITS = {"train": "train", "dev": "validation", "test": "test"}


class _WmtTranslation(text_problem.Text2TextProblem):
  """English -> target_lang from the tfds WMT'14 builder."""

  source_lang = "en"
  vocab_name = None  # Its own vocabulary, from vocab_text below.
  vocab_size = 8192
  num_shards = {"train": 100, "dev": 1, "test": 1}
  vocab_sample_size = 200_000   # Sentence pairs the vocabulary sees.
  vocab_sample_slices = 20      # Taken evenly from this many train slices.

  @property
  def tfds_name(self):
    return f"wmt14_translate/{self.target_lang}-en"

  def _builder(self, tmp_dir):
    tfds = system_deps.require_module(
        "tensorflow_datasets", "tensorflow-datasets", self.name)
    builder = tfds.builder(self.tfds_name,
                           data_dir=os.path.join(tmp_dir, "tfds"))
    builder.download_and_prepare()
    return builder

  def _pairs(self, builder, tfds_split, limit=None):
    import tensorflow_datasets as tfds
    ds = builder.as_dataset(split=tfds_split, shuffle_files=False)
    if limit is not None:
      ds = ds.take(limit)
    for ex in tfds.as_numpy(ds):
      yield (ex[self.source_lang].decode("utf-8"),
             ex[self.target_lang].decode("utf-8"))

  def text_pairs(self, tmp_dir, split):
    return self._pairs(self._builder(tmp_dir), _TFDS_SPLITS[split])

  def vocab_text(self, tmp_dir):
    """A bounded sample: the first pairs of evenly spaced train slices.

    The train split concatenates corpora (Europarl, Common Crawl, News
    Commentary ...); slices spread the sample over all of them.
    """
    builder = self._builder(tmp_dir)
    n = self.vocab_sample_slices
    per_slice = self.vocab_sample_size // n
    for i in range(n):
      lo, hi = 100 * i // n, 100 * (i + 1) // n
      for src, tgt in self._pairs(builder, f"train[{lo}%:{hi}%]", per_slice):
        yield src
        yield tgt


@registry.register_problem
class TranslateEndeWmt(_WmtTranslation):
  """4.5M train pairs; newstest2013 dev, newstest2014 test."""

  target_lang = "de"


@registry.register_problem
class TranslateEnfrWmt(_WmtTranslation):
  """40.8M train pairs; newstest2013 dev, newstest2014 test."""

  target_lang = "fr"
