"""The speech reference recipe (transformer_speech_small): the conventional
front end it promises, 40 ms frames and 80 mel bins down to 20, projected
to the model width, with padded frames kept out of the encoding."""
import numpy as np
import tensorflow as tf

import t2tlite  # noqa: F401  (registers the sets and modalities)
from t2tlite import modality
from t2tlite import registry


def test_front_end_quarters_time_and_frequency():
  hp = registry.hparams("transformer_speech_small")
  assert hp.ctc_weight == 0.5 and hp.max_length == 200
  # The set names the conventional front end in place of the MultiModel's
  # audio net (hparams modality_overrides).
  audio = modality.create("audio", hp, 0)
  assert type(audio).__name__ == "Conv2dSubsampling"
  frames = tf.random.stateless_normal([2, 100, 80], seed=[5, 6])
  frames = frames * tf.sequence_mask([100, 60], 100, tf.float32)[:, :, None]
  out, mask, _ = audio.bottom(frames)
  assert out.shape == (2, 25, hp.hidden_size)
  assert [int(m) for m in tf.reduce_sum(tf.cast(mask, tf.int32), 1)] == [
      25, 15]
  # Two blocks of 32 filters on 20 bins feed the projection.
  assert audio.project.kernel.shape == (20 * 32, hp.hidden_size)
  np.testing.assert_array_equal(out.numpy()[1, 15:], 0.0)
