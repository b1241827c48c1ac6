"""The one input pipeline: length caps, bucketed batches within their
budgets, fixed-size image batches, evaluation that keeps every example, and
every registered problem batching through it."""
import numpy as np
import pytest
import tensorflow as tf

import usr_dir_example  # noqa: F401  (registers zen_reverse)
from t2tlite import registry
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
  names = registry.problems.names()
  assert len(names) > 10
  for name in names:
    p = registry.problem(name)
    assert type(p).batched is problem_lib.Problem.batched, name
    assert type(p).batching is not problem_lib.Problem.batching, name


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
