"""A trained output_dir is a self-contained artifact.

Train a joint run on text, image -> class label and audio problems, copy
its output_dir, delete the data_dir, and decode, export and t2tlite.load
from the copy: every output must equal the original run's. A checkpoint
that lacks some of the model's variables is an error naming them, never a
silent start from random weights.
"""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401  (the SavedModel's sentencepiece ops)

from conftest import USR_DIR, run_cli
import usr_dir_example  # noqa: F401  (registers zen_* in this process)

U = f"--usr_dir={USR_DIR}"


@pytest.fixture(scope="module")
def original(joint_run, tmp_path_factory):
  """(data_dir, output_dir, input files per problem) of a tiny joint run
  (conftest's joint_run: datagen and training through the CLIs)."""
  root = tmp_path_factory.mktemp("portable")
  data, out = joint_run
  from sklearn.datasets import load_digits
  inputs = {"zen_reverse": ["Flat is better than nested.",
                            "Readability counts.", "Errors should never "
                            "pass silently."]}
  pngs = []
  for i, img in enumerate(load_digits().images[:6]):
    path = root / f"digit{i}.png"
    path.write_bytes(tf.io.encode_png(
        (img * 16).clip(0, 255).astype(np.uint8)[:, :, None]).numpy())
    pngs.append(str(path))
  inputs["image_digits"] = pngs
  wavs = []
  for i, text in enumerate(["Simple is better than complex.",
                            "Now is better than never."]):
    path = root / f"zen{i}.wav"
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True)
    wavs.append(str(path))
  inputs["zen_speech"] = wavs
  files = {}
  for name, lines in inputs.items():
    files[name] = root / f"{name}.txt"
    files[name].write_text("\n".join(lines) + "\n")
  return data, out, files


def _decode_all(out, files, extra=()):
  got = {}
  for name, src in files.items():
    proc = run_cli("t2t_decoder", U, f"--output_dir={out}",
                   f"--problem={name}", f"--decode_from_file={src}",
                   "--decode_hparams=beam_size=2,top_k=3", *extra)
    got[name] = proc.stdout
  return got


def test_copied_run_without_data_decodes_exports_and_loads_the_same(
    original, tmp_path):
  data, out, files = original
  before = _decode_all(out, files)
  for name, text in before.items():
    assert len(text.splitlines()) == len(files[name].read_text().splitlines())
  from t2tlite.serve import api
  live = api.load(out)
  before_api = {n: live.predict(n, files[n].read_text().split("\n")[:-1])
                for n in files}
  # Copy the run elsewhere and take its data away.
  copy = str(tmp_path / "copied_run")
  shutil.copytree(out, copy)
  gone = data + "_moved"
  os.rename(data, gone)
  try:
    after = _decode_all(copy, files)
    assert after == before
    loaded = api.load(copy)
    for name in files:
      got = loaded.predict(name, files[name].read_text().split("\n")[:-1])
      assert got == before_api[name], name
    # Export from the copy: the SavedModel gives the decoder's outputs.
    from t2tlite.serve import export
    for name in ("zen_reverse", "image_digits", "zen_speech"):
      export_dir = str(tmp_path / f"export_{name}")
      run_cli("t2t_exporter", U, f"--output_dir={copy}",
              f"--problem={name}", f"--export_dir={export_dir}",
              "--decode_hparams=beam_size=2")
      m = tf.saved_model.load(export_dir)
      lines = files[name].read_text().split("\n")[:-1]
      raw = lines if name == "zen_reverse" else [
          open(p, "rb").read() for p in lines]
      outs = m.signatures["serving_default"](inputs=tf.constant(raw))
      decoded = [o.decode() for o in outs["outputs"].numpy().reshape(-1)]
      expect = [l.split("; ")[0].split(":")[0]
                for l in before[name].splitlines()]
      assert decoded == expect, (name, decoded, expect)
    assert export  # the module the CLI runs is importable here too
  finally:
    os.rename(gone, data)


def test_a_checkpoint_missing_variables_is_an_error_naming_them(original,
                                                                 tmp_path):
  """A run config that asks for a modality net the checkpoint never had
  (here: a label set of its own for a second class-label problem)."""
  _, out, files = original
  copy = tmp_path / "edited"
  shutil.copytree(out, copy)
  cfg_path = copy / "t2tlite_run.json"
  cfg = json.loads(cfg_path.read_text())
  spec = dict(next(s for s in cfg["specs"] if s["name"] == "image_digits"))
  spec.update(name="image_fashion_mnist", target_vocab_name="labels:other")
  cfg["specs"].append(spec)
  cfg["problems"].append("image_fashion_mnist")
  cfg_path.write_text(json.dumps(cfg))
  proc = run_cli("t2t_decoder", U, f"--output_dir={copy}",
                 "--problem=image_digits",
                 f"--decode_from_file={files['image_digits']}", check=False)
  assert proc.returncode == 2, proc.stderr[-2000:]
  last = proc.stderr.strip().splitlines()[-1]
  assert "does not hold" in last and "variables" in last, last
  assert proc.stdout == ""


def test_restore_names_the_missing_variables(tmp_path):
  from t2tlite import model as model_lib
  from t2tlite import registry
  from t2tlite.data.problem import ProblemSpec
  import t2tlite.models  # noqa: F401  (registers the models)
  hp = registry.hparams("multimodel_tiny")
  text = ProblemSpec("a", "text", 50, "v50", "text", 50, "v50", "to_en", 1)
  label = ProblemSpec("b", "text", 50, "v50", "class_label", 3, "labels:b",
                      "to_label", 14)
  small = registry.model("multimodel")(hp, [text]).build_from_specs()
  path = tf.train.Checkpoint(model=model_lib.structured_variables(
      small)).write(str(tmp_path / "ckpt"))
  both = registry.model("multimodel")(hp, [text, label]).build_from_specs()
  with pytest.raises(model_lib.RestoreError, match="does not hold"):
    model_lib.restore_weights(both, path)
  unbuilt = registry.model("multimodel")(hp, [text])
  with pytest.raises(model_lib.RestoreError, match="build it"):
    model_lib.restore_weights(unbuilt, path)
  # The same model restores every variable to the saved values.
  again = registry.model("multimodel")(hp, [text]).build_from_specs()
  model_lib.restore_weights(again, path)
  for (k, a), b in zip(model_lib.structured_variables(small).items(),
                       model_lib.structured_variables(again).values()):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=k)


def test_equal_size_vocabularies_get_their_own_modality_nets():
  """Two label sets (or vocabularies) of one size are different outputs."""
  from t2tlite import registry
  from t2tlite.data.problem import ProblemSpec
  import t2tlite.models  # noqa: F401
  hp = registry.hparams("multimodel_tiny")
  specs = [ProblemSpec("d", "image", 0, "", "class_label", 10,
                       "labels:image_digits", "to_digit_label", 12),
           ProblemSpec("f", "image", 0, "", "class_label", 10,
                       "labels:image_fashion_mnist", "to_fashion_label", 11),
           ProblemSpec("x", "text", 64, "va", "text", 64, "va", "to_en", 1),
           ProblemSpec("y", "text", 64, "vb", "text", 64, "vb", "to_de", 2)]
  m = registry.model("multimodel")(hp, specs)
  assert m.target_modality("d") is not m.target_modality("f")
  assert m.input_modality("d") is m.input_modality("f")  # one image net
  assert m.target_modality("x") is not m.target_modality("y")
  assert m.input_modality("x") is m.target_modality("x")


def test_problem_specs_name_their_label_set():
  from t2tlite import registry
  from t2tlite.data import problem as problem_lib
  digits = problem_lib.spec(registry.problem("image_digits"), "/none")
  fashion = problem_lib.spec(registry.problem("image_fashion_mnist"), "/none")
  assert digits.target_vocab_name == "labels:image_digits"
  assert fashion.target_vocab_name != digits.target_vocab_name
