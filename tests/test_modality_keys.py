"""Two label sets of one size, trained jointly, keep their own nets."""
import json

import numpy as np
import tensorflow as tf

from conftest import run_cli

USR = '''
from t2tlite import registry
from t2tlite.problems import image_digits

registry.register_task_token("to_mirrored_digit")


@registry.register_problem
class DigitsMirrored(image_digits.ImageDigits):
  """The digits again, labelled 9 - d and named in words: ten classes, like
  image_digits, but another label set."""
  class_names = ("nine", "eight", "seven", "six", "five", "four", "three",
                 "two", "one", "zero")
  task_token = "to_mirrored_digit"

  def images(self, tmp_dir, split):
    for image, label in super().images(tmp_dir, split):
      yield image, 9 - label
'''


def test_equal_size_label_sets_trained_jointly(tmp_path):
  usr = tmp_path / "mirror_usr"
  usr.mkdir()
  (usr / "__init__.py").write_text(USR)
  U = f"--usr_dir={usr}"
  data, out = tmp_path / "data", tmp_path / "run"
  names = ["image_digits", "digits_mirrored"]
  run_cli("t2t_datagen", f"--problem={','.join(names)}", U,
          f"--data_dir={data}", f"--tmp_dir={tmp_path}/tmp")
  run_cli("t2t_trainer", f"--problems={'-'.join(names)}", U,
          "--model=multimodel", "--hparams_set=multimodel_tiny",
          f"--data_dir={data}", f"--output_dir={out}", "--train_steps=40",
          "--eval_every=40", "--eval_steps=1")
  specs = {s["name"]: s for s in
           json.loads((out / "t2tlite_run.json").read_text())["specs"]}
  assert specs["image_digits"]["target_vocab_size"] == 10
  assert specs["digits_mirrored"]["target_vocab_size"] == 10
  assert (specs["image_digits"]["target_vocab_name"] !=
          specs["digits_mirrored"]["target_vocab_name"])
  # The trained model holds one class-label net per label set, each
  # restored from the checkpoint (a restore that misses any variable fails).
  import t2tlite
  from t2tlite import usr_dir
  usr_dir.import_usr_dir(str(usr))
  loaded = t2tlite.load(str(out))
  model = loaded._dec.model  # pylint: disable=protected-access
  nets = [model.target_modality(n) for n in names]
  assert nets[0] is not nets[1]
  a, b = (sorted(((v.path, v.numpy()) for v in net.trainable_variables),
                 key=lambda kv: kv[0]) for net in nets)
  assert [x.shape for _, x in a] == [y.shape for _, y in b] and a
  assert any(not np.allclose(x, y) for (_, x), (_, y) in zip(a, b))
  # Each problem decodes to names from its own label set.
  png = tmp_path / "d.png"
  from sklearn.datasets import load_digits
  img = (load_digits().images[3] * 16).clip(0, 255).astype(np.uint8)
  png.write_bytes(tf.io.encode_png(img[:, :, None]).numpy())
  listing = tmp_path / "in.txt"
  listing.write_text(f"{png}\n")
  for name, allowed in (("image_digits", set("0123456789")),
                        ("digits_mirrored", {"nine", "eight", "seven",
                                             "six", "five", "four", "three",
                                             "two", "one", "zero"})):
    proc = run_cli("t2t_decoder", U, f"--output_dir={out}",
                   f"--problem={name}", f"--decode_from_file={listing}")
    got = proc.stdout.strip().splitlines()
    assert len(got) == 1 and got[0] in allowed, (name, got)
