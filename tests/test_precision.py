"""Mixed precision (bfloat16 compute, float32 variables) and the XLA switch."""
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import t2tlite  # noqa: F401
from t2tlite.decode import decoder
from t2tlite import model as model_lib
from t2tlite import registry
from t2tlite.train import seeding
from t2tlite.train import trainer
from t2tlite.hparams_lib import HParamsError
from t2tlite.data.problem import ProblemSpec

import usr_dir_example  # noqa: F401  (registers zen_* in this process)

BF16 = "mixed_precision=bfloat16"


def _trainer(data_dir, out, problems=("zen_reverse",), model="transformer",
             hparams_set="zen_tiny", overrides=BF16):
  hp = registry.hparams(hparams_set).override(overrides)
  seeding.seed_everything(hp.seed)
  return trainer.Trainer(list(problems), model, hparams_set, hp, data_dir,
                         str(out))


def _compute_dtypes(model):
  """Compute dtypes of every layer but those kept float32 on purpose."""
  return {layer.compute_dtype for layer in model._flatten_layers()  # pylint: disable=protected-access
          if not getattr(layer, "keep_float32", False)}


def _assert_float32_state(tr):
  for variables in (tr.model.variables, tr.optimizer.variables):
    dtypes = [tf.as_dtype(v.dtype) for v in variables]
    floats = [d for d in dtypes if d.is_floating]
    assert floats and all(d == tf.float32 for d in floats)


def _assert_learns(history, problem, first=5):
  losses = [loss for _, name, loss in history if name == problem]
  assert all(np.isfinite(losses)), losses
  assert np.mean(losses[-first:]) < np.mean(losses[:first]), losses


def test_bad_values_raise_naming_the_allowed_ones(tmp_path):
  hp = registry.hparams("transformer_tiny")
  with pytest.raises(ValueError, match="'bfloat16'"):
    trainer.Trainer(["zen_reverse"], "transformer", "transformer_tiny",
                    hp.replace(mixed_precision="float16"),
                    str(tmp_path / "no_data"), str(tmp_path / "out"))
  with pytest.raises(ValueError, match="'bfloat16'"):
    model_lib.dtype_policy_name("bf16")
  with pytest.raises(ValueError, match="jit_compile"):
    hp.override("jit_compile=sometimes")
  with pytest.raises(HParamsError, match="jit_compile"):
    hp.replace(jit_compile="yes")
  # XLA cannot compile the MoE's data-dependent dispatch: said up front,
  # not as an XLA error at the first step.
  with pytest.raises(ValueError, match="use_moe=false"):
    trainer.check_precision_settings(registry.hparams(
        "multimodel_tiny").replace(jit_compile=True),
        model_cls=registry.model("multimodel"))


def test_transformer_trains_in_bfloat16_and_decodes(zen_data, tmp_path):
  out = tmp_path / "run"
  tr = _trainer(zen_data, out)
  assert _compute_dtypes(tr.model) == {"bfloat16"}
  assert keras.config.dtype_policy().name == "float32"  # global untouched
  batch = next(iter(tr._eval_batches(tr.problems[0])))  # pylint: disable=protected-access
  state, _ = tr.model.encode(batch["inputs"], "zen_reverse")
  assert state["output"].dtype == tf.bfloat16  # the body computes in bf16
  tr.train(40, eval_every=40, eval_steps=2, log_every=40)
  _assert_learns(tr.history, "zen_reverse")
  _assert_float32_state(tr)
  lines = ["Simple is better than complex.", "Now is better than never."]
  # From the checkpoint: float32 variables, decoded in float32.
  dec = decoder.Decoder(str(out), zen_data, "beam_size=2")
  assert _compute_dtypes(dec.model) == {"float32"}
  outs = dec.decode_lines("zen_reverse", lines)
  assert len(outs) == 2 and all(isinstance(o, str) for o in outs)
  # The live bfloat16 model decodes too (the trainer's eval_decode hook).
  live = decoder.Decoder(str(out), zen_data, "beam_size=2", model=tr.model)
  assert len(live.decode_lines("zen_reverse", lines)) == 2


def _text_model(precision=None):
  spec = ProblemSpec("p", "text", 30, None, "text", 30, None, "to_text", 2)
  model = registry.model("transformer")(registry.hparams("transformer_tiny"),
                                        [spec])
  return model if precision is None else model_lib.set_precision(model,
                                                                  precision)


def test_fp32_model_after_a_bf16_one_is_float32():
  feats = {"inputs": tf.constant([[5, 6, 7]]), "targets": tf.constant([[8, 9]])}
  bf16 = _text_model("bfloat16")
  bf16(feats, problem="p")
  for fp32 in (_text_model(), _text_model("")):  # default, and explicit
    assert _compute_dtypes(fp32) == {"float32"}
    logits, _ = fp32(feats, problem="p")
    state, _ = fp32.encode(feats["inputs"], "p")
    assert logits.dtype == tf.float32 and state["output"].dtype == tf.float32
  assert _compute_dtypes(bf16) == {"bfloat16"}


def test_multimodel_trains_in_bfloat16(zen_data, tmp_path):
  # Image, class-label and audio nets: test_every_modality_runs_in_bfloat16.
  tr = _trainer(zen_data, tmp_path / "mm", model="multimodel",
                hparams_set="multimodel_tiny", overrides=BF16)
  assert _compute_dtypes(tr.model) == {"bfloat16"}
  gating = [l for l in tr.model._flatten_layers()  # pylint: disable=protected-access
            if getattr(l, "keep_float32", False)]
  assert gating and all(l.compute_dtype == "float32" for l in gating)
  tr.train(20, eval_every=20, eval_steps=1, log_every=20)
  _assert_learns(tr.history, "zen_reverse")
  _assert_float32_state(tr)


# In the fresh processes below glibc fills every block malloc hands out with
# 0x7f bytes (MALLOC_PERTURB_=128): a kernel that reads memory it never
# wrote then gives garbage in every run, not only when the memory happens
# to hold some (rarely in a fresh process, in every pass late in the whole
# suite's process). TensorFlow's oneDNN bfloat16 kernel-gradient ops did
# that for the outer taps of a strided conv that read only padding
# (t2tlite.layers.conv2d.conv2d_same): with this, seed 0 below gave an inf
# gradient for the class-label skip's depthwise kernel in the first pass,
# for both models.
_PERTURBED_MALLOC = {**os.environ, "MALLOC_PERTURB_": "128"}


def _run_fresh(call):
  """Runs `call` (a call of a function of this module, as text) in a fresh
  process with perturbed malloc; fails with its stderr if it raises."""
  proc = subprocess.run([sys.executable, "-c",
                         f"import test_precision as t; t.{call}"],
                        capture_output=True, text=True,
                        cwd=os.path.dirname(__file__), env=_PERTURBED_MALLOC,
                        check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.parametrize("model_name,hparams_set", [
    ("transformer", "transformer_tiny"), ("multimodel", "multimodel_tiny")])
def test_every_modality_runs_in_bfloat16(model_name, hparams_set):
  """Forward and backward of image, class-label, audio and text nets, once
  each, in a fresh process: the same weights and inputs whatever ran
  before."""
  _run_fresh(f"check_every_modality_in_bfloat16({model_name!r}, "
             f"{hparams_set!r})")


# The centre tap of a 3x3 kernel: on a 1x1 map, the only one that does not
# read padding.
_CENTRE = np.zeros((3, 3), bool)
_CENTRE[1, 1] = True


def _finite(x):
  return bool(np.all(np.isfinite(tf.convert_to_tensor(x))))


def check_every_modality_in_bfloat16(model_name, hparams_set, seed=0):
  keras.utils.set_random_seed(seed)
  hp = registry.hparams(hparams_set).replace(audio_blocks=2,
                                             audio_mel_bins=8)
  specs = [ProblemSpec("img", "image", 256, None, "class_label", 10, None,
                       "to_label", 2),
           ProblemSpec("asr", "audio", 0, None, "text", 30, None, "to_text",
                       3)]
  model = model_lib.set_precision(
      registry.model(model_name)(hp, specs), "bfloat16")
  rng = np.random.default_rng(seed)
  feats = {
      "img": {"inputs": tf.constant(rng.integers(0, 255, (2, 16, 16, 1)),
                                    tf.uint8),
              "targets": tf.constant([[3], [4]], tf.int64)},
      "asr": {"inputs": tf.constant(rng.normal(size=(2, 12, 8)), tf.float32),
              "targets": tf.constant(rng.integers(1, 30, (2, 5)))}}
  for name, f in feats.items():
    with tf.GradientTape() as tape:
      logits, _ = model(f, problem=name, training=True)
      loss_sum, weight = model.target_modality(name).loss(
          logits, f["targets"])
    variables = model.trainable_variables
    grads = tape.gradient(loss_sum, variables)
    assert logits.dtype == tf.float32 and float(weight) > 0
    assert np.isfinite(float(loss_sum)), (name, float(loss_sum))
    named = [(v.path, g) for v, g in zip(variables, grads) if g is not None]
    assert named and all(g.dtype == tf.float32 for _, g in named)
    bad = [path for path, g in named if not _finite(g)]
    assert not bad, f"{name}: non-finite bfloat16 gradients of {bad}"
    if name == "img":
      # The class-label net's skip (3x3, stride 2) sees the image net's
      # 1x1 map: its outer taps read only padding, so their gradient is 0.
      skip = model.target_modality("img").skip.conv.depthwise_kernel
      grad = [g for v, g in zip(variables, grads) if v is skip][0].numpy()
      assert np.all(grad[~_CENTRE] == 0.0), grad[..., 0, 0]
    state, _ = model.encode(f["inputs"], name)
    assert state["output"].dtype == tf.bfloat16


def test_strided_conv_step_kernel_gradient_in_bfloat16():
  """A bfloat16 stride-2 ConvStep2D, separable and full, whose 3x3 kernel
  sees a 1x1 map: the outer taps' gradient is exactly 0 (TensorFlow's own
  bfloat16 kernel-gradient op left it uninitialised, inf under perturbed
  malloc) and the rest agrees with float32."""
  _run_fresh("check_strided_conv_step_kernel_gradient_in_bfloat16()")


def check_strided_conv_step_kernel_gradient_in_bfloat16():
  from t2tlite.layers import conv2d  # pylint: disable=import-outside-toplevel
  rng = np.random.default_rng(0)
  x = tf.constant(rng.normal(size=(2, 1, 1, 32)), tf.float32)
  weights = tf.constant(rng.normal(size=(2, 1, 1, 32)), tf.float32)
  for separable in (True, False):
    fp32 = conv2d.ConvStep2D(32, 3, strides=2, separable=separable)
    bf16 = model_lib.set_precision(
        conv2d.ConvStep2D(32, 3, strides=2, separable=separable), "bfloat16")
    fp32(x), bf16(x)
    bf16.set_weights(fp32.get_weights())
    outputs, kernel_grads = [], []
    for layer in (bf16, fp32):
      with tf.GradientTape() as tape:
        y = tf.cast(layer(x), tf.float32)
        loss = tf.reduce_sum(y * weights)
      # The first variable: the depthwise kernel, or the full conv's.
      assert tuple(layer.trainable_variables[0].shape[:2]) == (3, 3)
      grads = tape.gradient(loss, layer.trainable_variables)
      assert all(_finite(g) for g in grads), (separable, layer.dtype_policy)
      outputs.append(y.numpy())
      kernel_grads.append(grads[0].numpy())
    np.testing.assert_allclose(outputs[0], outputs[1], atol=0.1)
    bf16_grad, fp32_grad = kernel_grads
    assert np.all(fp32_grad[~_CENTRE] == 0.0)
    assert np.all(bf16_grad[~_CENTRE] == 0.0), (separable,
                                                bf16_grad[..., 0, 0])
    np.testing.assert_allclose(bf16_grad[_CENTRE], fp32_grad[_CENTRE],
                               atol=0.05 * np.abs(fp32_grad).max())


def test_jit_compile_trains_a_tiny_transformer(zen_data, tmp_path):
  tr = _trainer(zen_data, tmp_path / "xla", overrides="jit_compile=true")
  assert tr._train_steps["zen_reverse"]._jit_compile  # pylint: disable=protected-access
  tr.train(2, eval_every=2, eval_steps=1, log_every=2)
  assert len(tr.history) == 2
  assert all(np.isfinite(loss) for _, _, loss in tr.history)
