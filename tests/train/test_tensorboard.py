"""What a user watches in TensorBoard (issue 16.4): per problem, the decoded
metrics of each eval, the learning rate, the global gradient norm and each
MoE layer's per-expert load as a histogram, written at log steps."""
import collections
import glob
import math
import os

import numpy as np
import pytest
import tensorflow as tf

from conftest import USR_DIR, run_cli
import usr_dir_example  # noqa: F401  (registers zen_* in this process)

from t2tlite.decode import eval_hook
from t2tlite.train import optimization
from t2tlite import registry
from t2tlite.train import summaries
from t2tlite.train import trainer as trainer_lib
from t2tlite.layers import moe

PROBLEMS = ["zen_reverse", "image_digits"]
LOG_EVERY, STEPS = 4, 8


def read_events(directory):
  """tag -> [(step, numpy value)] of every event file under directory."""
  out = collections.defaultdict(list)
  for path in sorted(glob.glob(os.path.join(directory, "events.out.*"))):
    for event in tf.compat.v1.train.summary_iterator(path):
      for v in event.summary.value:
        out[v.tag].append((event.step, tf.make_ndarray(v.tensor)))
  return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  data = tmp_path_factory.mktemp("tb_data")
  run_cli("t2t_datagen", f"--problem={','.join(PROBLEMS)}",
          f"--usr_dir={USR_DIR}", f"--data_dir={data}",
          f"--tmp_dir={data}/tmp")
  out = str(tmp_path_factory.mktemp("tb_run"))
  results = trainer_lib.train(
      PROBLEMS, "multimodel", "multimodel_tiny", str(data), out,
      train_steps=STEPS, eval_every=STEPS, eval_steps=1,
      log_every=LOG_EVERY,
      after_eval=eval_hook.decoded_metrics(2))
  return out, results


def test_histogram_buckets_hold_exact_counts(tmp_path):
  writer = tf.summary.create_file_writer(str(tmp_path))
  with writer.as_default(step=3):
    summaries.write_count_histogram("layer/load", [3, 0, 5, 2])
  writer.flush()
  (step, buckets), = read_events(str(tmp_path))["layer/load"]
  assert step == 3
  np.testing.assert_array_equal(buckets, [[0, 1, 3], [1, 2, 0], [2, 3, 5],
                                          [3, 4, 2]])


def test_log_summaries_are_means_and_count_sums():
  outs = [{"loss": tf.constant(1.0), "finite": tf.constant(True),
           "tokens": tf.constant(9.0), "learning_rate": tf.constant(0.1),
           "moe_stat_encoder_expert_routed": tf.constant([1.0, 3.0])},
          {"loss": tf.constant(3.0), "finite": tf.constant(True),
           "tokens": tf.constant(9.0), "learning_rate": tf.constant(0.2),
           "moe_stat_encoder_expert_routed": tf.constant([2.0, 0.0])}]
  scalars, histograms = summaries.train_summaries(outs)
  assert scalars == {"loss": 2.0}
  np.testing.assert_array_equal(
      histograms["moe_stat_encoder_expert_routed"], [3.0, 3.0])


def test_moe_counts_what_the_gate_routed_before_capacity_drops():
  layer = moe.MixtureOfExperts(8, 16, num_experts=4, k=2,
                               capacity_factor=0.5)
  valid = tf.sequence_mask([5, 3, 1], 5)
  _, _, stats = layer(tf.random.normal([3, 5, 8]), valid, training=True)
  assert int(stats["routed_tokens"]) == 9
  assert int(tf.reduce_sum(stats["expert_routed"])) == 2 * 9
  assert int(tf.reduce_sum(stats["expert_tokens"])) + int(
      stats["dropped_tokens"]) == 2 * 9
  assert int(stats["dropped_tokens"]) > 0


def test_train_summaries_show_rate_norm_and_expert_load(run):
  out, _ = run
  events = read_events(os.path.join(out, "train"))
  log_steps = list(range(LOG_EVERY, STEPS + 1, LOG_EVERY))
  hp = registry.hparams("multimodel_tiny")
  schedule = optimization.learning_rate(hp)
  # The rate of each log step's update (the optimiser's iterations before
  # it: one per step, none skipped in so short a run).
  lr = events["learning_rate"]
  assert [s for s, _ in lr] == log_steps
  for s, v in lr:
    assert float(v) > 0
    assert float(v) == pytest.approx(float(schedule(s - 1)), rel=1e-6)
  steps_per_log = LOG_EVERY // len(PROBLEMS)  # round robin
  for name in PROBLEMS:
    norms = events[f"{name}/grad_norm"]
    assert [s for s, _ in norms] == log_steps  # only at log steps
    assert all(math.isfinite(float(v)) and float(v) > 0 for _, v in norms)
    assert [s for s, _ in events[f"{name}/loss"]] == log_steps
    layers = ["encoder"] + (["decoder"] if name == "zen_reverse" else [])
    for layer in layers:
      prefix = f"{name}/moe_stat_{layer}"
      routed = dict(events[f"{prefix}_routed_tokens"])  # mean per step
      hists = events[f"{prefix}_expert_routed"]
      assert [s for s, _ in hists] == log_steps
      for s, buckets in hists:
        assert buckets.shape == (hp.moe_num_experts, 3)
        counts = buckets[:, 2]
        # Every routed token's k choices, summed over the interval's steps.
        assert counts.sum() == pytest.approx(
            hp.moe_k * float(routed[s]) * steps_per_log)
        assert counts.sum() > 0 and len(set(counts.tolist())) > 1, counts
        np.testing.assert_array_equal(buckets[:, 0],
                                      np.arange(hp.moe_num_experts))
      # No capacity limit in multimodel_tiny: each expert computes all the
      # gate sent it.
      computed = events[f"{prefix}_expert_tokens"]
      for (_, a), (_, b) in zip(hists, computed):
        np.testing.assert_array_equal(a, b)
      assert f"{prefix}_max_load_ratio" in events
  assert "image_digits/moe_stat_decoder_expert_routed" not in events


def test_eval_summaries_carry_the_decoded_metrics(run):
  out, results = run
  events = read_events(os.path.join(out, "eval"))
  for name, metric in (("zen_reverse", "decoded_bleu"),
                       ("image_digits", "decoded_accuracy")):
    (step, value), = events[f"{name}/{metric}"]
    assert step == STEPS
    assert float(value) == pytest.approx(results[name][metric], abs=1e-4)
    assert 0 <= float(value) <= 100
    assert [s for s, _ in events[f"{name}/loss"]] == [STEPS]
