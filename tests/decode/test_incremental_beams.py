"""Beam search through each model's incremental cache (self-attention keys
that grow a step at a time, source keys kept once per source for all its
beams) finds the same beams, with the same scores, as beam search that
recomputes the whole prefix every step."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import t2tlite  # noqa: F401  (registers models and hparams)
from t2tlite import model as model_lib
from t2tlite import registry
from t2tlite.decode import search
from t2tlite.data.problem import ProblemSpec

VOCAB, BATCH, BEAM, MAX_LEN = 30, 2, 3, 6


def _sources():
  ids = np.random.RandomState(0).randint(2, VOCAB, (BATCH, 7))
  ids[1, 4:] = 0  # the second source is shorter: its padding is masked
  return tf.constant(ids, tf.int64)


def _beams(model, cls, inputs):
  state, _ = model.encode(inputs, "p", training=False)
  state_k = search.tile_beams(state, BEAM)
  cache = cls.init_cache(model, state, "p", BATCH * BEAM, MAX_LEN)
  step = lambda ids, i, c: cls.decode_step(model, state_k, ids, i, c, "p")
  return search.beam_search(step, cache, BATCH, BEAM, MAX_LEN)


@pytest.mark.parametrize("name,hparams", [("transformer", "transformer_tiny"),
                                          ("multimodel", "multimodel_tiny")])
def test_incremental_beams_equal_full_recomputation(name, hparams):
  spec = ProblemSpec("p", "text", VOCAB, None, "text", VOCAB, None, "to_de",
                     2)
  keras.utils.set_random_seed(3)
  model = registry.model(name)(registry.hparams(hparams), [spec])
  inputs = _sources()
  model({"inputs": inputs, "targets": inputs}, problem="p")
  fast_seqs, fast_scores = _beams(model, type(model), inputs)
  slow_seqs, slow_scores = _beams(model, model_lib.T2TModel, inputs)
  np.testing.assert_array_equal(fast_seqs.numpy(), slow_seqs.numpy())
  np.testing.assert_allclose(fast_scores.numpy(), slow_scores.numpy(),
                             atol=1e-4)
  # The two sources' beams scored differently: each saw its own source.
  assert not np.allclose(fast_scores[0].numpy(), fast_scores[1].numpy(),
                         atol=1e-3)
