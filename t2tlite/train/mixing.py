"""Which problem trains at each step of joint training.

Each step trains one problem's batch (the paper's way: a batch never mixes
modalities). Rates are relative weights, renormalised over the problems of
the run; they are not "proportional" unless asked for. The choice at a step
is a pure function of (seed, step), so a resumed run picks the same
problems as an uninterrupted one, and every worker picks the same.
"""
import numpy as np

from t2tlite import errors


class MixingError(errors.UserError, ValueError):
  """A malformed --mixing value."""


def parse(spec, problems, sizes=None, caps=None):
  """Returns a Mixer for a strategy string.

  spec: round_robin | uniform | proportional | temperature:T |
        weights:a=0.5,b=0.2  (relative weights; missing problems get 0)
  sizes: problem -> training examples (for proportional / temperature).
  caps: problem -> maximum share of steps (the excess is redistributed).
  """
  spec = (spec or "round_robin").strip()
  n = len(problems)
  if spec == "round_robin":
    return Mixer(problems, np.full(n, 1.0 / n), round_robin=True)
  if spec == "uniform":
    rates = np.ones(n)
  elif spec == "proportional" or spec.startswith("temperature:"):
    if not sizes or any(sizes.get(p) is None for p in problems):
      missing = [p for p in problems if not (sizes or {}).get(p)]
      raise MixingError(f"--mixing={spec} needs each problem's training "
                        f"set size; unknown for {', '.join(missing)}")
    rates = np.array([float(sizes[p]) for p in problems])
    if spec.startswith("temperature:"):
      try:
        t = float(spec.split(":", 1)[1])
      except ValueError:
        raise MixingError(f"malformed --mixing={spec}: temperature:T takes "
                          "a number") from None
      if t <= 0:
        raise MixingError(f"malformed --mixing={spec}: T must be > 0")
      rates = (rates / rates.sum()) ** (1.0 / t)
  elif spec.startswith("weights:"):
    rates = np.zeros(n)
    for item in spec.split(":", 1)[1].split(","):
      if "=" not in item:
        raise MixingError(f"malformed --mixing={spec}: expected "
                          "weights:problem=weight,...")
      name, w = item.split("=", 1)
      name = name.strip()
      if name not in problems:
        raise MixingError(f"--mixing names '{name}', which is not one of "
                          f"the run's problems ({', '.join(problems)})")
      try:
        rates[problems.index(name)] = float(w)
      except ValueError:
        raise MixingError(f"malformed weight {w!r} for {name}") from None
    if (rates < 0).any() or rates.sum() <= 0:
      raise MixingError(f"--mixing={spec}: weights must be >= 0, not all 0")
  else:
    raise MixingError(f"unknown --mixing={spec}; use round_robin, uniform, "
                      "proportional, temperature:T or weights:a=w,b=w")
  rates = rates / rates.sum()
  if caps:
    rates = apply_caps(rates, [caps.get(p) for p in problems])
  return Mixer(problems, rates)


def apply_caps(rates, caps):
  """Clips rates to caps and gives the excess to the uncapped problems."""
  rates = np.array(rates, float)
  for _ in range(len(rates)):
    over = [i for i, c in enumerate(caps) if c is not None and
            rates[i] > c + 1e-12]
    if not over:
      break
    excess = sum(rates[i] - caps[i] for i in over)
    for i in over:
      rates[i] = caps[i]
    free = [i for i, c in enumerate(caps) if c is None or rates[i] < c]
    free = [i for i in free if i not in over]
    if not free:
      break
    total = sum(rates[i] for i in free) or len(free)
    for i in free:
      rates[i] += excess * (rates[i] / total if total else 1 / len(free))
  return rates / rates.sum()


class Mixer:
  """Maps a global step to the problem trained at that step."""

  def __init__(self, problems, rates, round_robin=False, seed=0):
    self.problems = list(problems)
    self.rates = np.asarray(rates, float)
    self.round_robin = round_robin
    self.seed = seed
    self._cum = np.cumsum(self.rates)

  def choose(self, step):
    if self.round_robin:
      return self.problems[step % len(self.problems)]
    u = np.random.default_rng([self.seed, step]).random()
    return self.problems[int(np.searchsorted(self._cum, u * self._cum[-1],
                                             side="right").clip(
                                                 0, len(self.problems) - 1))]

  def describe(self):
    if self.round_robin:
      return "round_robin"
    return ", ".join(f"{p}={r:.3f}" for p, r in zip(self.problems,
                                                     self.rates))
