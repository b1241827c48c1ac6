"""Text-to-text problems: pairs of strings in one subword vocabulary."""
from t2tlite.data import class_label
from t2tlite.data import problem as problem_lib


class Text2TextProblem(problem_lib.Problem):
  """Subclasses give `source_lang`, `target_lang` and `text_pairs()`.

  With vocab_name None the problem trains a vocabulary of its own, of
  `vocab_size` pieces, on `vocab_text` (by default its train split).
  """

  vocab_size = 8192
  source_lang = "en"
  target_lang = "de"
  metrics = ("bleu",)

  @property
  def task_token(self):
    return "to_" + self.target_lang

  @property
  def reverse_task_token(self):
    return "to_" + self.source_lang

  def text_pairs(self, tmp_dir, split):
    """Yields (source, target) strings of one split."""
    raise NotImplementedError

  def vocab_text(self, tmp_dir):
    for src, tgt in self.text_pairs(tmp_dir, "train"):
      yield src
      yield tgt

  def generate_examples(self, tmp_dir, split):
    for src, tgt in self.text_pairs(tmp_dir, split):
      yield {"inputs": src, "targets": tgt}


class Text2ClassProblem(class_label.ClassLabelTargets, Text2TextProblem):
  """Text -> one of `class_names` (sentiment, topic, language...).

  Subclasses give `class_names` and `text_labels()`. The text is encoded
  like a translation source; the label is stored as a one-element target
  (the "class_label" codec), so such a problem reads, batches and decodes
  like any text problem.
  """

  task_token = "to_label"
  reverse_task_token = None
  metrics = ("accuracy",)

  def text_labels(self, tmp_dir, split):
    """Yields (text, label) of one split; a label is a class name or its
    index in `class_names`."""
    raise NotImplementedError

  def vocab_text(self, tmp_dir):
    for text, _ in self.text_labels(tmp_dir, "train"):
      yield text

  def generate_examples(self, tmp_dir, split):
    for text, label in self.text_labels(tmp_dir, split):
      yield {"inputs": text, "targets": label}
