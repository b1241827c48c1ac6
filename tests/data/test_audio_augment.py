"""Waveform augmentation in training: speed perturbation and noise
(t2tlite.data.codecs.audio.perturb, switched on by speed_perturb and
noise_snr_db)."""
import math

import numpy as np
import tensorflow as tf

from t2tlite.data import audio
from t2tlite.data import codecs
from t2tlite.data import speech_problems
from t2tlite.data.codecs import audio as audio_codec
from t2tlite.hparams_lib import defaults

RATE = audio.SAMPLE_RATE


def tone(freq, seconds=1.0, amp=0.5):
  t = np.arange(int(seconds * RATE)) / RATE
  return (amp * np.sin(2 * math.pi * freq * t)).astype(np.float32)


def dominant_hz(samples):
  spectrum = np.abs(np.fft.rfft(samples))
  return np.argmax(spectrum) * RATE / len(samples)


def test_speed_perturbation_plays_the_clip_at_one_of_three_speeds():
  x = tone(1000.0)
  seen = {}
  for i in range(24):
    y = audio_codec.perturb(tf.constant(x), [3, i], speed=0.1).numpy()
    factor = round(len(x) / len(y), 2)
    # Faster playback: fewer samples and a higher pitch, by the same factor.
    assert abs(dominant_hz(y) - 1000.0 * factor) < 5.0
    seen[factor] = seen.get(factor, 0) + 1
  assert set(seen) == {0.9, 1.0, 1.1}


def test_noise_lands_in_the_drawn_snr_range_and_speed_stays_put():
  x = tone(440.0)
  snrs = []
  for i in range(20):
    y = audio_codec.perturb(tf.constant(x), [5, i], noise_snr_db=10.0).numpy()
    assert len(y) == len(x)
    noise = y - x
    snrs.append(10 * math.log10(np.mean(x ** 2) / np.mean(noise ** 2)))
  assert min(snrs) > 9.5 and max(snrs) < 30.5
  assert max(snrs) - min(snrs) > 5.0   # drawn, not fixed


def test_perturbation_is_a_function_of_the_seed():
  x = tf.constant(tone(700.0, seconds=0.3))
  a = audio_codec.perturb(x, [1, 2], speed=0.1, noise_snr_db=15.0).numpy()
  b = audio_codec.perturb(x, [1, 2], speed=0.1, noise_snr_db=15.0).numpy()
  np.testing.assert_array_equal(a, b)
  others = [audio_codec.perturb(x, [1, i], 0.1, 15.0).numpy()
            for i in range(3, 6)]
  assert all(len(o) != len(a) or not np.array_equal(o, a) for o in others)


def test_the_codec_perturbs_only_in_training_and_only_when_asked():
  codec = codecs.for_problem(speech_problems.SpeechProblem(), None).inputs
  pcm = tf.constant(audio.to_pcm16(tone(300.0, seconds=2.0, amp=0.3)))
  plain = defaults()
  augmented = plain.replace(speed_perturb=0.1, noise_snr_db=20.0)
  clean = audio.spectral_features(pcm).numpy()
  assert not codec.needs_seed(plain, True)
  assert not codec.needs_seed(augmented, False)
  assert codec.needs_seed(augmented, True)
  # Decoding and evaluation never augment; training without the settings
  # gives the same features as before they existed.
  np.testing.assert_array_equal(
      codec.to_model({"audio": pcm}, augmented, False), clean)
  np.testing.assert_array_equal(
      codec.to_model({"audio": pcm}, plain, True), clean)
  # In training, each pass over the utterance (a new stream seed) draws
  # anew: the frame count follows the speed, the features the noise.
  frames = set()
  for i in range(24):
    y = codec.to_model({"audio": pcm}, augmented, True, seed=[9, i]).numpy()
    assert y.shape[1] == audio.NUM_MEL_BINS
    assert not np.array_equal(y[:len(clean)], clean[:len(y)])
    frames.add(y.shape[0])
  assert frames == {audio.num_frames(round(32000 / f)) for f in (0.9, 1.0, 1.1)}


def test_speed_resampling_matches_scipys_polyphase_filter():
  import scipy.signal
  t = np.arange(32000) / RATE
  x = (0.3 * np.sin(2 * math.pi * 440 * t) +
       0.2 * np.sin(2 * math.pi * 3000 * t)).astype(np.float32)
  for up, down in ((10, 11), (10, 9)):
    y = audio_codec._fft_resample(tf.constant(x), up, down).numpy()
    ref = scipy.signal.resample_poly(x, up, down)
    assert len(y) == len(ref)
    # Away from the ends (where the two treat the edges differently).
    np.testing.assert_allclose(y[1000:-1000], ref[1000:-1000], atol=2e-3)
