import numpy as np
import pytest

from t2tlite.train import mixing

PROBS = ["a", "b", "c"]
SIZES = {"a": 8000, "b": 1000, "c": 1000}


def shares(mixer, n=20000):
  picks = [mixer.choose(s) for s in range(n)]
  return np.array([picks.count(p) / n for p in PROBS])


@pytest.mark.parametrize("spec,expected", [
    ("uniform", [1 / 3, 1 / 3, 1 / 3]),
    ("proportional", [0.8, 0.1, 0.1]),
    ("temperature:2", np.sqrt([0.8, 0.1, 0.1]) / np.sqrt([0.8, 0.1,
                                                          0.1]).sum()),
    ("weights:a=1,b=3", [0.25, 0.75, 0.0]),
])
def test_realised_shares_match_rates(spec, expected):
  # 20,000 draws: the standard error of a share is below 0.0036, so a
  # tolerance of 0.015 is more than four standard errors.
  got = shares(mixing.parse(spec, PROBS, SIZES))
  assert np.allclose(got, expected, atol=0.015), (spec, got)


def test_round_robin_cycles_and_is_a_function_of_step():
  m = mixing.parse("round_robin", PROBS)
  assert [m.choose(s) for s in range(6)] == PROBS * 2
  m2 = mixing.parse("proportional", PROBS, SIZES)
  assert [m2.choose(s) for s in range(50)] == [m2.choose(s)
                                               for s in range(50)]


def test_caps_redistribute():
  m = mixing.parse("proportional", PROBS, SIZES, caps={"a": 0.5})
  assert np.isclose(m.rates[0], 0.5) and np.isclose(m.rates.sum(), 1)
  assert np.isclose(m.rates[1], m.rates[2])


@pytest.mark.parametrize("spec", ["bogus", "temperature:x", "temperature:0",
                                  "weights:a", "weights:zz=1",
                                  "weights:a=0"])
def test_malformed_specs_raise(spec):
  with pytest.raises(mixing.MixingError):
    mixing.parse(spec, PROBS, SIZES)
