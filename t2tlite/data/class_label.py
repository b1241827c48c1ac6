"""Outputs that are one of a fixed set of class names.

ClassLabelTargets is what every problem with "class_label" targets shares,
whatever its inputs (image classification, text classification): the size
of the output space, the class probabilities written as a name (or the
top K as "name:score" pairs), the reference as a name, and accuracy (with
top-5 accuracy when five names are given).
"""
import re

import numpy as np


class ClassLabelTargets:
  """Mixin for a Problem whose targets are one of `class_names`."""

  target_modality = "class_label"
  class_names = ()
  metrics = ("accuracy", "top5_accuracy")

  def target_vocab_size(self):
    return len(self.class_names)

  def label_id(self, label):
    """A class name or index -> its index; anything else is an error."""
    if isinstance(label, str):
      if label not in self.class_names:
        raise ValueError(f"{self.data_name}: label {label!r} is not one of "
                         f"{list(self.class_names)}")
      return self.class_names.index(label)
    label = int(label)
    if not 0 <= label < len(self.class_names):
      raise ValueError(f"{self.data_name}: label {label} is not one of "
                       f"{len(self.class_names)} classes")
    return label

  def format_output(self, output, data_dir, decode_hparams):
    """Class probabilities -> the best class name, or with decode hparam
    top_k=K the K best as "name:score" pairs joined by "; "."""
    probs = np.asarray(output, np.float64).reshape(-1)
    k = int((decode_hparams or {}).get("top_k", 1) or 1)
    best = np.argsort(-probs, kind="stable")[:k]
    if k == 1:
      return self.class_names[best[0]]
    return "; ".join(f"{self.class_names[i]}:{probs[i]:.4f}" for i in best)

  def format_reference(self, targets, data_dir):
    return self.class_names[int(np.asarray(targets).reshape(-1)[0])]

  @staticmethod
  def _ranked_names(hypothesis):
    names = []
    for item in hypothesis.split("; "):
      m = re.fullmatch(r"(.*):([0-9.eE+-]+)", item)
      names.append(m.group(1) if m else item)
    return names

  def score(self, hypotheses, references):
    """Accuracy of the first name; top5_accuracy when 5 names are given."""
    if not references:
      return {"accuracy": 0.0}
    ranked = [self._ranked_names(h) for h in hypotheses]
    out = {"accuracy": float(np.mean([r[0] == ref for r, ref in
                                      zip(ranked, references)]))}
    if all(len(r) >= 5 for r in ranked):
      out["top5_accuracy"] = float(np.mean([ref in r[:5] for r, ref in
                                            zip(ranked, references)]))
    return out
