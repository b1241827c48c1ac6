"""Learning-rate schedules: what a run's rate is at each step."""
import numpy as np
import pytest

from t2tlite import hparams_lib
from t2tlite.train import optimization


def rates(schedule, steps):
  return np.array([float(schedule(s)) for s in steps])


def test_linear_decay_shares_rsqrt_warmup_and_peak_then_falls_to_zero():
  rsqrt = optimization.RsqrtDecay(0.5, 128, 400)
  linear = optimization.LinearDecay(0.5, 128, 400, 2750)
  warm = range(0, 400, 37)
  np.testing.assert_allclose(rates(linear, warm), rates(rsqrt, warm),
                             rtol=1e-6)
  peak = 0.5 * 128 ** -0.5 * 400 ** -0.5
  assert float(linear(399)) == pytest.approx(peak, rel=1e-6)
  after = rates(linear, range(399, 2750, 50))
  assert np.all(np.diff(after) < 0)
  # a straight line: equal steps take equal amounts off
  np.testing.assert_allclose(np.diff(after), np.diff(after)[0], rtol=1e-3)
  # the last step (step 2749 counts as the 2,750th) trains at rate 0
  assert float(linear(2749)) == 0.0 and float(linear(5000)) == 0.0
  assert float(linear(2748)) > 0.0


def test_learning_rate_builds_the_named_schedule():
  hp = hparams_lib.defaults().replace(
      learning_rate_schedule="linear_decay", learning_rate_decay_steps=900,
      warmup_steps=100)
  schedule = optimization.learning_rate(hp)
  assert isinstance(schedule, optimization.LinearDecay)
  assert schedule.get_config()["total_steps"] == 900
  with pytest.raises(hparams_lib.HParamsError, match="rsqrt_decay, "):
    optimization.learning_rate(hp.replace(learning_rate_schedule="cosine"))


def test_linear_decay_needs_an_end_after_warmup_and_the_run_to_stop_there():
  hp = hparams_lib.defaults().replace(
      learning_rate_schedule="linear_decay", learning_rate_decay_steps=100,
      warmup_steps=100)
  with pytest.raises(hparams_lib.HParamsError, match="> warmup_steps"):
    optimization.learning_rate(hp)
  hp = hp.replace(warmup_steps=10)
  optimization.check_steps(hp, 100)
  for steps in (50, 101):
    with pytest.raises(hparams_lib.HParamsError, match="set them equal"):
      optimization.check_steps(hp, steps)
  # other schedules run for as long as asked
  optimization.check_steps(hp.replace(learning_rate_schedule="rsqrt_decay"),
                           50)
