"""The one input pipeline: length caps, bucketed batches within their
budgets, fixed-size image batches, evaluation that keeps every example,
every registered problem batching through it as its codecs say, and a new
kind of data added with a codec alone."""
import numpy as np
import pytest
import tensorflow as tf

import usr_dir_example  # noqa: F401  (registers zen_reverse)
from t2tlite import configs
from t2tlite import registry
from t2tlite.data import codecs
from t2tlite.data import datagen
from t2tlite.data import pipeline
from t2tlite.data import problem as problem_lib
from t2tlite.train import trainer

RNG = np.random.default_rng(0)
PAIRS = [(int(a), int(b)) for a, b in RNG.integers(1, 60, size=(400, 2))]


def pairs_dataset():
  def gen():
    for a, b in PAIRS:
      yield {"inputs": np.ones(a, np.int64), "targets": np.ones(b, np.int64)}
  sig = {"inputs": tf.TensorSpec([None], tf.int64),
         "targets": tf.TensorSpec([None], tf.int64)}
  return tf.data.Dataset.from_generator(gen, output_signature=sig)


def lengths():
  return (lambda ex: tf.shape(ex["inputs"])[0],
          lambda ex: tf.shape(ex["targets"])[0])


def nonpad(batch, key):
  return (batch[key] != 0).sum(axis=1)


def test_training_batches_keep_both_budgets_and_drop_long_examples():
  b = pipeline.Batching(lengths=lengths(), max_lengths=(40, 50),
                        budgets=(256, 512))
  seen = []
  for batch in pipeline.batch(pairs_dataset(), b, True).as_numpy_iterator():
    n, t_in, t_out = (len(batch["inputs"]), batch["inputs"].shape[1],
                      batch["targets"].shape[1])
    assert n * t_in <= 256 and n * t_out <= 512
    seen += list(zip(nonpad(batch, "inputs"), nonpad(batch, "targets")))
  assert max(a for a, _ in seen) <= 40 and max(b for _, b in seen) <= 50
  # Nothing under the caps is lost except a final partial window per bucket.
  kept = [p for p in PAIRS if p[0] <= 40 and p[1] <= 50]
  assert len(kept) - 60 <= len(seen) <= len(kept)


def test_evaluation_keeps_every_example_under_the_caps():
  b = pipeline.Batching(lengths=lengths(), max_lengths=(40, 50),
                        budgets=(256, 256),
                        eval_length=lambda ex: tf.maximum(*[
                            f(ex) for f in lengths()]))
  got = []
  for batch in pipeline.batch(pairs_dataset(), b, False).as_numpy_iterator():
    got += list(zip(nonpad(batch, "inputs"), nonpad(batch, "targets")))
  assert sorted(got) == sorted(p for p in PAIRS if p[0] <= 40 and p[1] <= 50)


def test_fixed_batch_size_training_is_exact_and_evaluation_keeps_the_rest():
  ds = tf.data.Dataset.range(10).map(lambda i: {"inputs": i[None]})
  b = pipeline.Batching(batch_size=4)
  assert [len(x["inputs"]) for x in pipeline.batch(ds, b, True)] == [4, 4]
  assert [len(x["inputs"]) for x in pipeline.batch(ds, b, False)] == [4, 4, 2]
  # With a length: bucketed by it in training, every batch full.
  cap = pipeline.Batching(lengths=lengths()[1:], max_lengths=(30,),
                          batch_size=8, min_lengths=(4,), growth=1.3)
  batches = list(pipeline.batch(pairs_dataset(), cap, True))
  assert batches and all(len(x["targets"]) == 8 for x in batches)
  assert all(x["targets"].shape[1] <= 30 for x in batches)


def test_batching_rejects_inconsistent_settings():
  with pytest.raises(ValueError, match="max_length"):
    pipeline.Batching(lengths=lengths(), max_lengths=(4,), budgets=(8, 8))
  with pytest.raises(ValueError, match="budgets or a batch_size"):
    pipeline.Batching()


def test_every_registered_problem_batches_through_the_pipeline():
  """No problem has reading code of its own: its two codecs say what is
  stored and how it is measured, and one Batching follows from them."""
  names = registry.problems.names()
  assert len(names) > 10
  hp = registry.hparams("multimodel_chars")
  for name in names:
    p = registry.problem(name)
    assert not hasattr(p, "batched"), name  # batches: pipeline.batched
    sides = codecs.for_problem(p, None)
    b = pipeline.batching(sides, hp)
    assert b.batch_size or b.budgets, name
    assert set(sides.inputs.feature_spec()) | set(
        sides.targets.feature_spec()), name


def test_batching_follows_the_codecs():
  hp = registry.hparams("multimodel_chars")

  def of(name):
    return pipeline.batching(codecs.for_problem(registry.problem(name),
                                                None), hp)

  text = of("translate_ende_ddtp")   # both lengths, token budgets
  assert text.budgets == (hp.batch_size,) * 2 and len(text.lengths) == 2
  speech = of("speech_tts_en_chars")  # frames and characters
  assert speech.max_lengths == (hp.audio_max_frames, hp.max_length)
  assert speech.min_lengths == (50, 8)
  caption = of("image_caption_tuxpaint")  # a fixed number of images,
  assert caption.batch_size == hp.image_batch_size  # bucketed by caption
  assert len(caption.lengths) == 1 and caption.padded_shapes["inputs"][0]
  label = of("image_fashion_mnist")   # nothing to bucket by
  assert label.lengths == () and label.batch_size == hp.image_batch_size


def test_a_new_kind_of_data_needs_a_codec_not_a_problem_base_class(
    tmp_path):
  """A user's codec stores raw bytes and turns them into ids in the
  pipeline; the problem only yields examples."""

  seen = []

  @registry.register_codec("bytes_for_test")
  class Bytes(codecs.Codec):
    def encode(self, value):
      return {"raw": value}

    def feature_spec(self):
      return {"raw": tf.io.FixedLenFeature([], tf.string)}

    def to_model(self, example, config, training, seed=None):
      seen.append(config)
      return tf.cast(tf.io.decode_raw(example["raw"], tf.uint8), tf.int64)

    def batching(self, config):
      seen.append(config)
      return codecs.BatchSide(length=lambda x: tf.shape(x)[0],
                              max_length=6, budget=12)

  class Raw(problem_lib.Problem):
    _registered_name = "raw_bytes_for_test"
    input_modality = target_modality = "bytes"
    codecs = ("bytes_for_test", "bytes_for_test")
    num_shards = {"train": 1}

    def generate_examples(self, tmp_dir, split):
      for n in range(1, 9):
        yield {"inputs": bytes(range(1, n + 1)),
               "targets": bytes(range(1, n + 1))}

  try:
    data = str(tmp_path / "data")
    datagen.generate_data(Raw(), data, str(tmp_path / "tmp"))
    got = []
    hp = registry.hparams("zen_tiny")
    for b in pipeline.batched(Raw(), data, "train", hp, False):
      assert b["inputs"].shape[0] * b["inputs"].shape[1] <= 12
      got += [int((row != 0).sum()) for row in b["inputs"].numpy()]
    assert sorted(got) == [1, 2, 3, 4, 5, 6]  # 7 and 8 bytes: over the cap
    # A codec reads the data settings only (configs.DataConfig), never the
    # model's.
    assert seen and all(c == configs.data_config(hp) for c in seen)
    assert not hasattr(seen[0], "hidden_size")
  finally:
    registry.codecs.unregister("bytes_for_test")


def test_checkpoint_of_another_pipeline_resumes_at_its_step(
    zen_data, tmp_path, monkeypatch):
  """A run whose saved input-stream state no longer fits the pipeline (a
  version that batched differently) resumes its model at its step with the
  streams skipped ahead; it does not start again from step 0."""
  out = str(tmp_path / "run")
  args = (["zen_reverse"], "transformer", "zen_tiny",
          registry.hparams("zen_tiny"), zen_data, out)
  trainer.Trainer(*args).train(3, eval_every=3, eval_steps=1, log_every=1)
  batch = pipeline.batch
  monkeypatch.setattr(pipeline, "batch",
                      lambda *a, **k: batch(*a, **k).repeat())
  again = trainer.Trainer(*args)
  assert again.restored_from.endswith("ckpt-3") and int(again.step) == 3
  again.train(4, eval_every=4, eval_steps=1, log_every=1)
  assert int(again.step) == 4
