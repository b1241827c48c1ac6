"""Translation of Debian package descriptions (DDTP), English to de / fr.

The paper's WMT translation tasks, on real human translations that can be
fetched with apt. `translate_ende_ddtp_rev` (de -> en, task token "to_en")
and `translate_enfr_ddtp_rev` come from the registry and read these files.
"""
from t2tlite import registry
from t2tlite.data import text_problem
from t2tlite.problems import ddtp


class _DdtpTranslation(text_problem.Text2TextProblem):
  """English -> target_lang pairs from ddtp.aligned_pairs."""

  source_lang = "en"
  vocab_name = ddtp.SHARED_VOCAB
  num_shards = {"train": 4, "dev": 1, "test": 1}

  def text_pairs(self, tmp_dir, split):
    return ddtp.aligned_pairs(tmp_dir, self.target_lang, split)


@registry.register_problem
class TranslateEndeDdtp(_DdtpTranslation):
  """About 40k train pairs, 1.2k dev and test (bookworm)."""

  target_lang = "de"


@registry.register_problem
class TranslateEnfrDdtp(_DdtpTranslation):
  """About 67k train pairs, 2k dev and test (bookworm)."""

  target_lang = "fr"
