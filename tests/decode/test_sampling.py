"""Sampling (search.sample_search) and n-best output (return_beams).

On a fixed Markov model (as test_search.py): samples follow the model's
distribution, sampling_top_k and a constraint limit them, temperature -> 0
and top_k 1 are greedy search. On the tiny trained zen_reverse run: the
decoder's sampling is greedy at temperature 0 or sampling_top_k=1,
reproducible with a seed and independent of batching, and return_beams
gives K distinct hypotheses sorted by score, the first being the plain
decoder's output.
"""
import collections
import itertools

import numpy as np
import pytest
import tensorflow as tf

import usr_dir_example  # noqa: F401  (registers zen_reverse)
from conftest import USR_DIR, run_cli
import markov_model
from markov_model import L, V, step_fn
from t2tlite.data import codecs
from t2tlite.serve import api
from t2tlite.decode import decoder
from t2tlite.decode import search


def markov(seed):
  return markov_model.markov(seed, 1.5)


def exact_distribution(table, temperature=1.0, top_k=0):
  """P(sequence) of ancestral sampling within L steps (unfinished ones
  cut at L), by enumeration."""
  logits = table.numpy() / temperature
  probs = {}
  for n in range(1, L + 1):
    for seq in itertools.product(range(1, V), repeat=n):
      if 1 in seq[:-1] or (n < L and seq[-1] != 1):
        continue
      p, prev = 1.0, 2
      for tok in seq:
        row = logits[prev].astype(np.float64)
        if top_k:
          row = np.where(row < np.sort(row)[-top_k], -np.inf, row)
        row = np.exp(row - row.max())
        p *= row[tok] / row.sum()
        prev = tok
      probs[seq] = p
  return probs


def draw(table, n, **kwargs):
  keys = search.sample_keys(tf.range(1, n + 1)[:, None], 1, seed=7)
  ids, scores = search.sample_search(step_fn(table), {"x": tf.zeros([n])},
                                     n, L, keys=keys, alpha=0.0, **kwargs)
  seqs = [tuple(int(t) for t in row if t != 0) for row in ids.numpy()]
  return seqs, scores.numpy()


@pytest.mark.parametrize("temperature,top_k", [(1.0, 0), (2.0, 0),
                                               (1.0, 2)])
def test_samples_follow_the_model(temperature, top_k):
  table = markov(1)
  n = 20000
  seqs, scores = draw(table, n, temperature=temperature, top_k=top_k)
  want = exact_distribution(table, temperature, top_k)
  got = collections.Counter(seqs)
  assert set(got) <= {s for s, p in want.items() if p > 0}
  for seq, p in want.items():
    # 6 standard deviations of a frequency over n draws.
    assert abs(got[seq] / n - p) < 6 * np.sqrt(p * (1 - p) / n) + 1e-3, (
        seq, got[seq] / n, p)
  # Scores: the sample's log-probability under the model (temperature 1,
  # every token), here with no length penalty (alpha 0).
  lp = tf.nn.log_softmax(table).numpy()
  for seq, score in list(zip(seqs, scores))[:50]:
    prev, total = 2, 0.0
    for tok in seq:
      total += lp[prev, tok]
      prev = tok
    assert score == pytest.approx(total, abs=1e-4)


def test_temperature_zero_and_top_k_one_are_greedy():
  for seed in range(4):
    table = markov(seed)
    greedy = search.greedy_search(step_fn(table), {"x": tf.zeros([3])}, 3,
                                  L).numpy()
    keys = search.sample_keys(tf.range(3)[:, None], 1, seed=1)
    for kwargs in ({"temperature": 0.0}, {"temperature": 1e-6},
                   {"temperature": 1.0, "top_k": 1},
                   {"temperature": 3.0, "top_k": 1}):
      ids, _ = search.sample_search(step_fn(table), {"x": tf.zeros([3])}, 3,
                                    L, keys=keys, **kwargs)
      np.testing.assert_array_equal(ids.numpy(), greedy, err_msg=kwargs)


class NoRepeat:
  """A constraint: never the same token twice in a row (its state is the
  previous token)."""

  def __init__(self, rows):
    self.rows = rows

  def initial_state(self):
    return tf.fill([self.rows], -1)

  def mask(self, state, i):
    return tf.one_hot(tf.maximum(state, 0), V) * -1e9 * tf.cast(
        state >= 0, tf.float32)[:, None]

  def update(self, state, token, i):
    return token


def test_sampling_honours_the_constraint():
  table = markov(2)
  n = 2000
  keys = search.sample_keys(tf.range(n)[:, None], 1, seed=3)
  ids, _ = search.sample_search(step_fn(table), {"x": tf.zeros([n])}, n, 8,
                                temperature=2.0, keys=keys,
                                constraint=NoRepeat(n))
  ids = ids.numpy()
  seqs = [[int(t) for t in row if t != 0] for row in ids]
  assert all(a != b for s in seqs for a, b in zip(s, s[1:]))
  # Without it, repeats happen at this temperature.
  free, _ = search.sample_search(step_fn(table), {"x": tf.zeros([n])}, n, 8,
                                 temperature=2.0, keys=keys)
  assert any(a == b and a != 0 for row in free.numpy()
             for a, b in zip(row, row[1:]))


def test_sample_keys_ignore_padding_and_depend_on_seed_and_index():
  x = tf.constant([[5, 7, 1, 0, 0], [5, 7, 1, 9, 1]], tf.int64)
  k = search.input_keys(x).numpy()
  assert k[0] == search.input_keys(x[:1, :3]).numpy()[0]
  assert k[0] != k[1]
  keys = search.sample_keys(x, 3, seed=0).numpy()
  assert len(set(keys.tolist())) == 6
  assert (search.sample_keys(x, 3, seed=0).numpy() == keys).all()
  assert not (search.sample_keys(x, 3, seed=1).numpy() == keys).any()


# --- the decoder on a trained run ---------------------------------------------
LINES = usr_dir_example.zen_lines()[:8]


def _decode(run, hparams, lines=LINES):
  return decoder.Decoder(run, decode_hparams_text=hparams).decode_lines(
      "zen_reverse", lines)


def test_decoder_sampling_limits_are_greedy(zen_run):
  greedy = _decode(zen_run, "beam_size=1")
  for hp in ("sampling=true,temperature=0", "sampling=true,temperature=1e-6",
             "sampling=true,sampling_top_k=1",
             "sampling=true,temperature=2,sampling_top_k=1"):
    assert _decode(zen_run, hp) == greedy, hp


def test_seeded_sampling_is_reproducible_and_batch_independent(zen_run):
  hp = "sampling=true,temperature=1.5,seed=5"
  a = _decode(zen_run, hp)
  assert _decode(zen_run, hp) == a
  # Each input's sample depends on the seed and the input only.
  assert _decode(zen_run, hp + ",batch_size=3") == a
  assert _decode(zen_run, hp, LINES[::-1]) == a[::-1]
  other = _decode(zen_run, "sampling=true,temperature=1.5,seed=6")
  assert other != a
  # The samples are not the greedy outputs at this temperature.
  assert a != _decode(zen_run, "beam_size=1")


def test_nbest_gives_k_distinct_hypotheses_sorted_by_score(zen_run):
  k = 4
  plain = _decode(zen_run, f"beam_size={k}")
  nbest = _decode(zen_run, f"beam_size={k},return_beams=true")
  for line, best in zip(nbest, plain):
    hyps = decoder.split_nbest(line)
    assert line.count(decoder.NBEST_SEPARATOR) == 2 * len(hyps) - 1
    assert len(hyps) == k, line
    scores = [s for _, s in hyps]
    assert scores == sorted(scores, reverse=True)
    assert hyps[0][0] == best
  # Distinct hypotheses (as ids: two can spell the same text).
  dec = decoder.Decoder(zen_run, decode_hparams_text=f"beam_size={k}")
  problem = dec.problem("zen_reverse")
  inputs = codecs.for_problem(problem, zen_run).inputs
  arrays = [inputs.from_line(l, dec.hparams)[0] for l in LINES]
  for hyps in dec.decode_arrays("zen_reverse", arrays, return_beams=True):
    assert len({tuple(ids) for ids, _ in hyps}) == len(hyps) == k
  # The Python API: [(text, score), ...] per input, the same hypotheses.
  model = api.load(zen_run, decode_hparams=f"beam_size={k}")
  got = model.predict("zen_reverse", LINES, return_beams=True)
  for pairs, line in zip(got, nbest):
    assert [(t, round(s, 4)) for t, s in pairs] == [
        (t, round(s, 4)) for t, s in decoder.split_nbest(line)]
  assert model.predict("zen_reverse", LINES) == plain


def test_nbest_of_samples_and_of_greedy(zen_run):
  lines = _decode(zen_run, "sampling=true,num_samples=3,temperature=1.2,"
                  "return_beams=true")
  best = _decode(zen_run, "sampling=true,num_samples=3,temperature=1.2")
  for line, b in zip(lines, best):
    hyps = decoder.split_nbest(line)
    assert len(hyps) == 3
    scores = [s for _, s in hyps]
    assert scores == sorted(scores, reverse=True)
    assert hyps[0][0] == b  # without return_beams: the best scored sample
  greedy = _decode(zen_run, "beam_size=1")
  one = _decode(zen_run, "beam_size=1,return_beams=true")
  assert [decoder.split_nbest(l)[0][0] for l in one] == greedy
  assert all(len(decoder.split_nbest(l)) == 1 for l in one)


def test_cli_nbest_with_reference_scores_the_best(zen_run, tmp_path):
  src = tmp_path / "in.txt"
  src.write_text("\n".join(LINES[:4]) + "\n")
  ref = tmp_path / "ref.txt"
  ref.write_text("\n".join(" ".join(reversed(l.split()))
                           for l in LINES[:4]) + "\n")
  plain = run_cli("t2t_decoder", f"--usr_dir={USR_DIR}",
                  f"--output_dir={zen_run}", "--problem=zen_reverse",
                  f"--decode_from_file={src}", f"--reference={ref}",
                  "--decode_hparams=beam_size=2")
  proc = run_cli("t2t_decoder", f"--usr_dir={USR_DIR}",
                 f"--output_dir={zen_run}", "--problem=zen_reverse",
                 f"--decode_from_file={src}", f"--reference={ref}",
                 "--decode_hparams=beam_size=2,return_beams=true")
  out = proc.stdout.splitlines()
  assert len(out) == 5  # 4 n-best lines and the metrics
  assert all(len(decoder.split_nbest(l)) == 2 for l in out[:4])
  assert [decoder.split_nbest(l)[0][0] for l in out[:4]] == (
      plain.stdout.splitlines()[:4])
  assert out[4] == plain.stdout.splitlines()[4]  # scored on the best
  bad = run_cli("t2t_decoder", f"--usr_dir={USR_DIR}",
                f"--output_dir={zen_run}", "--problem=zen_reverse",
                f"--decode_from_file={src}",
                "--decode_hparams=sampling=true,num_samples=0", check=False)
  assert bad.returncode == 2
  assert len(bad.stderr.strip().splitlines()) == 1
  assert "num_samples=0" in bad.stderr
