"""Outputs that are one of a fixed set of class names.

ClassLabelTargets is what every problem with "class_label" targets shares,
whatever its inputs (image classification, text classification): the size
of the output space and the label ids. Outputs are written and references
read by the "class_label" codec (t2tlite/data/codecs/class_label.py), and
scored by accuracy and top-5 accuracy (t2tlite.metrics).
"""


class ClassLabelTargets:
  """Mixin for a Problem whose targets are one of `class_names`."""

  target_modality = "class_label"
  class_names = ()
  label_feature = None  # the stored scalar label's feature; None: "targets"
  metrics = ("accuracy", "top5_accuracy")

  def label_id(self, label):
    """A class name or index -> its index; anything else is an error."""
    if isinstance(label, str):
      if label not in self.class_names:
        raise ValueError(f"{self.name}: label {label!r} is not one of "
                         f"{list(self.class_names)}")
      return self.class_names.index(label)
    label = int(label)
    if not 0 <= label < len(self.class_names):
      raise ValueError(f"{self.name}: label {label} is not one of "
                       f"{len(self.class_names)} classes")
    return label
