"""Export a trained problem as a SavedModel that takes raw inputs.

The serving signature `serving_default` takes `inputs`, a batch of strings
(text; or the bytes of encoded images or WAV files) and returns `outputs`,
the decoded text (for class labels: the best label, or with top_k > 1 the
"label:score; ..." line the decoder prints) plus, for class labels, `labels`
[B, k] and `scores` [B, k]. Tokenisation, image and audio decoding, search
and detokenisation all run in the graph, with the vocabulary inside, so a
process that never imports t2tlite can load and run it (text problems need
`import tensorflow_text` first, which registers the sentencepiece ops).

The SavedModel is written at export_dir itself; TensorFlow Serving wants it
in a numbered version folder (e.g. --export_dir=/models/zen/1).
"""
import json
import os
import shutil

import tensorflow as tf

from t2tlite import configs
from t2tlite.data.codecs import ExportError  # noqa: F401 (re-exported)
from t2tlite.decode import decoder as decoder_lib
from t2tlite import model as model_lib

SIGNATURE = "serving_default"
INPUT_NAME = "inputs"
METADATA = os.path.join("assets.extra", "t2tlite_export.json")


def _tf_variable(v):
  """A Keras 3 variable's backing tf.Variable (what SavedModel tracks)."""
  return getattr(v, "value", v) if not isinstance(v, tf.Variable) else v


class ServingModule(tf.Module):
  """One problem of a trained model, raw inputs in, decoded outputs out."""

  def __init__(self, dec, problem_name, top_k=None):
    super().__init__(name="t2tlite_serving")
    codecs = dec.codecs(problem_name)
    spec = dec.model.specs[problem_name]
    model, hp, dhp = dec.model, dec.hparams, dec.dhp
    self.kind = codecs.inputs.raw_kind
    self.problem_name = problem_name
    # Every variable by its structural key: TF's object graph does not see
    # Keras 3's tracked lists and dicts of layers.
    self.model_variables = {
        k.replace("/", "."): _tf_variable(v)
        for k, v in model_lib.structured_variables(model).items()}
    self.top_k = int(top_k or dhp.top_k or 1)
    sequence = model.target_modality(problem_name).targets_are_sequence

    # Raw strings -> model inputs, as the decoder's codec reads a line
    # (an ExportError where the codec has no graph form).
    to_inputs, example = codecs.inputs.graph_inputs(
        configs.data_config(hp))
    to_text = codecs.targets.graph_text() if sequence else None
    # Their tokenizers' resources, tracked so that the SavedModel holds them.
    self.codec_resources = list(codecs.inputs.graph_resources +
                                codecs.targets.graph_resources)
    # The decoder's own compiled search (greedy or beam, per decode_hparams).
    # Traced inline (python_function), not as a nested call: oneDNN's graph
    # rewrite crashes TF on a nested function's Conv2D of unknown shape.
    # pylint: disable-next=protected-access
    decode_fn = dec._decode_fn(problem_name, example).python_function

    if sequence:
      # The codec's decode_length may be any function of the input length:
      # tabulate it for every length the model can see.
      lengths = [dec._max_len(problem_name, n)  # pylint: disable=protected-access
                 for n in range(max(hp.max_length, 4096) + 1)]
      max_len_table = tf.constant(lengths, tf.int32)

      def serve(inputs):
        x = to_inputs(inputs)
        n = tf.minimum(tf.shape(x)[1], len(lengths) - 1)
        ids = decode_fn(x, tf.gather(max_len_table, n))[:, 0, :]
        # Each output keeps its own input's limit, as in the decoder, so
        # an output that never ends does not depend on its batch mates.
        if x.dtype.is_integer:
          own_n = tf.reduce_sum(tf.cast(tf.not_equal(x, 0), tf.int32), 1)
        else:
          own_n = tf.fill([tf.shape(x)[0]], n)
        own = tf.gather(max_len_table, tf.minimum(own_n, len(lengths) - 1))
        keep = tf.range(tf.shape(ids)[1])[None, :] < own[:, None]
        ids = ids * tf.cast(keep, ids.dtype)
        text = to_text(ids)
        if self.kind == "text":  # the decoder leaves blank lines blank
          blank = tf.equal(tf.strings.strip(inputs), "")
          text = tf.where(blank, tf.constant(""), text)
        return {"outputs": text}
    else:
      class_names = codecs.targets.class_names
      names = tf.constant(list(class_names))
      k = min(self.top_k, len(class_names))

      def serve(inputs):
        probs = decode_fn(to_inputs(inputs))
        scores, best = tf.math.top_k(probs, k=k)
        labels = tf.gather(names, best)
        if k == 1:
          line = labels[:, 0]
        else:  # the class_label codec's to_text: "name:0.1234; ..."
          pairs = labels + ":" + tf.strings.as_string(scores, precision=4)
          line = tf.strings.reduce_join(pairs, axis=1, separator="; ")
        return {"outputs": line, "labels": labels, "scores": scores}

    self.serve = tf.function(
        serve, input_signature=[tf.TensorSpec([None], tf.string,
                                              name=INPUT_NAME)])
    self.metadata = {
        "problem": problem_name, "input_kind": self.kind,
        "input_modality": spec.input_modality,
        "target_modality": spec.target_modality,
        "outputs": ["outputs"] if sequence else ["outputs", "labels",
                                                 "scores"],
        "top_k": self.top_k, "decode_hparams": dhp.values(),
        "model": dec.cfg["model"], "hparams_set": dec.cfg["hparams_set"],
        "needs": ["tensorflow_text"] if codecs.inputs.needs_tensorflow_text
                  or (sequence and codecs.targets.needs_tensorflow_text)
                  else []}

  def __call__(self, inputs):
    return self.serve(tf.constant(inputs, tf.string))


def build(output_dir, problem=None, data_dir=None, decode_hparams="",
          top_k=None, dec=None, average=None):
  """A ServingModule for one problem of a trained output_dir; average=N
  exports the mean of its last N checkpoints (see checkpoint_avg)."""
  dec = dec or decoder_lib.Decoder(output_dir, data_dir, decode_hparams,
                                   average=average)
  names = list(dec.problems)
  if problem is None:
    if len(names) > 1:
      raise ExportError(f"{output_dir} was trained on {', '.join(names)}: "
                        "say which problem to export (--problem)")
    problem = names[0]
  dec.problem(problem)  # a clear error for a problem it was not trained on
  module = ServingModule(dec, problem, top_k)
  if average:
    module.metadata["checkpoints_averaged"] = [
        os.path.basename(p) for p in dec.checkpoint_paths]
  return module


def _check_new(export_dir):
  if os.path.exists(export_dir) and (not os.path.isdir(export_dir) or
                                     os.listdir(export_dir)):
    raise ExportError(f"{export_dir} already exists and is not empty; "
                      "export to a new folder (for TensorFlow Serving, a "
                      "new version number)")


def save(module, export_dir):
  """Writes the SavedModel (atomically: a half-written one never appears)."""
  export_dir = os.path.abspath(export_dir)
  _check_new(export_dir)
  tmp = export_dir + ".tmp"
  shutil.rmtree(tmp, ignore_errors=True)
  signature = module.serve.get_concrete_function()
  tf.saved_model.save(module, tmp, signatures={SIGNATURE: signature})
  os.makedirs(os.path.join(tmp, "assets.extra"), exist_ok=True)
  with open(os.path.join(tmp, METADATA), "w") as f:
    json.dump(module.metadata, f, indent=1)
  if os.path.isdir(export_dir):
    os.rmdir(export_dir)
  os.replace(tmp, export_dir)
  return export_dir


def export(output_dir, export_dir, problem=None, data_dir=None,
           decode_hparams="", top_k=None, average=None):
  """build + save; returns the export_dir."""
  _check_new(os.path.abspath(export_dir))  # before the slow part
  return save(build(output_dir, problem, data_dir, decode_hparams, top_k,
                    average=average),
              export_dir)


def read_metadata(export_dir):
  path = os.path.join(export_dir, METADATA)
  if not os.path.exists(path):
    return {}
  with open(path) as f:
    return json.load(f)
