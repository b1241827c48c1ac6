"""An example --usr_dir: a user's own problem and hparams set in a few lines.

The problem is real text (the Zen of Python, shipped with every Python)
with each line's word order reversed: small enough to learn in seconds.
"""
import codecs
import contextlib
import io

from t2tlite import registry
from t2tlite.data import text_problem
from t2tlite.data import vocab


def zen_lines():
  with contextlib.redirect_stdout(io.StringIO()):  # `import this` prints
    import this  # pylint: disable=import-outside-toplevel
  return [l for l in codecs.decode(this.s, "rot13").splitlines() if l][1:]


# One small vocabulary shared by the two problems below, as the paper
# shared one vocabulary across tasks.
vocab.register_vocab("zen_words", 200, lambda tmp_dir: zen_lines() * 3)

# A new output space (the paper's task token) must be registered by name.
registry.register_task_token("to_en_reversed")


@registry.register_problem
class ZenReverse(text_problem.Text2TextProblem):
  """Reverse the word order of a line of the Zen of Python."""
  source_lang, target_lang = "en", "en_reversed"
  vocab_name = "zen_words"
  num_shards = {"train": 2, "dev": 1, "test": 1}

  def text_pairs(self, tmp_dir, split):
    lines = zen_lines()
    chosen = lines if split == "train" else lines[::4]
    for line in chosen * (20 if split == "train" else 1):
      yield line, " ".join(reversed(line.split()))


@registry.register_hparams
def zen_tiny():
  hp = registry.hparams("transformer_tiny")
  return hp.replace(learning_rate=0.01, batch_size=1024)


@registry.register_problem
class ZenSpeech(__import__("t2tlite.problems.speech_tts",
                           fromlist=["x"]).SpeechTtsEn):
  """The Zen of Python spoken by espeak-ng and flite: speech in a few lines
  (dev and test voices never occur in training)."""
  vocab_name = "zen_words"
  num_utterances = {"train": 48, "dev": 8, "test": 8}
  num_shards = {"train": 2, "dev": 1, "test": 1}

  def sentences(self, tmp_dir, split):
    return zen_lines()
