"""Reading audio files, resampling and log-mel features (t2tlite.data.audio)."""
import math
import wave

import numpy as np
import pytest
import tensorflow as tf

from t2tlite.data import audio


def tone(freq, seconds=0.5, rate=audio.SAMPLE_RATE, amp=0.5):
  t = np.arange(int(seconds * rate)) / rate
  return (amp * np.sin(2 * math.pi * freq * t)).astype(np.float32)


def expected_mel_bin(freq):
  """The bin whose filter centre is nearest `freq`, from the mel formula."""
  mel = lambda f: 1127.0 * math.log1p(f / 700.0)
  lo, hi = mel(audio.LOWER_HZ), mel(audio.UPPER_HZ)
  centres = [lo + (k + 1) * (hi - lo) / (audio.NUM_MEL_BINS + 1)
             for k in range(audio.NUM_MEL_BINS)]
  return int(np.argmin([abs(c - mel(freq)) for c in centres]))


def dominant_hz(samples, rate):
  spectrum = np.abs(np.fft.rfft(samples))
  return np.argmax(spectrum) * rate / len(samples)


@pytest.mark.parametrize("freq", [440.0, 1000.0, 3000.0])
def test_pure_tone_lands_in_its_mel_bin(freq):
  feats = audio.log_mel(tf.constant(tone(freq))).numpy()
  assert feats.shape == (50, audio.NUM_MEL_BINS)  # 0.5 s, 10 ms hop
  peak = np.bincount(feats[5:-5].argmax(axis=1)).argmax()
  assert abs(int(peak) - expected_mel_bin(freq)) <= 1


def test_frame_count_and_normalisation():
  pcm = audio.to_pcm16(tone(500, seconds=1.234) + tone(2500, 1.234, amp=0.1))
  feats = audio.spectral_features(tf.constant(pcm)).numpy()
  assert feats.shape == (audio.num_frames(len(pcm) // 2), 80) == (124, 80)
  np.testing.assert_allclose(feats.mean(axis=0), 0, atol=1e-3)
  # Bins with any variance over time come out with unit variance.
  std = feats.std(axis=0)
  assert np.all((std > 0.99) | (std < 1e-2)) and np.mean(std > 0.99) > 0.5


def test_pcm_waveform_is_never_exactly_zero():
  pcm = audio.to_pcm16(np.zeros(100, np.float32))
  wav = audio.pcm16_to_waveform(tf.constant(pcm)).numpy()
  assert wav.shape == (100,) and np.all(wav != 0)
  assert np.all(np.abs(wav) < 1e-4)


@pytest.mark.parametrize("rate", [8000, 22050, 44100])
def test_resample_keeps_pitch_and_duration(rate):
  out = audio.resample(tone(440, seconds=1.0, rate=rate), rate)
  assert len(out) == audio.SAMPLE_RATE
  assert abs(dominant_hz(out, audio.SAMPLE_RATE) - 440) < 2
  assert abs(np.abs(out).max() - 0.5) < 0.02


def write_wav(path, samples, rate, channels=1, width=2):
  data = np.repeat(samples[:, None], channels, axis=1)
  with wave.open(str(path), "wb") as w:
    w.setnchannels(channels)
    w.setsampwidth(width)
    w.setframerate(rate)
    if width == 2:
      w.writeframes((data * 32767).astype("<i2").tobytes())
    elif width == 3:
      ints = (data * (2 ** 23 - 1)).astype("<i4").reshape(-1)
      w.writeframes(b"".join(int(v).to_bytes(3, "little", signed=True)
                             for v in ints))


def test_reads_stereo_24bit_44k_wav_as_16k_mono(tmp_path):
  path = tmp_path / "stereo.wav"
  write_wav(path, tone(1000, 0.25, 44100), 44100, channels=2, width=3)
  samples, rate = audio.read_audio(str(path))
  assert rate == 44100 and samples.ndim == 1 and len(samples) == 11025
  pcm = audio.load_pcm16(str(path))
  assert len(pcm) // 2 == 4000
  x = np.frombuffer(pcm, "<i2") / 32768.0
  assert abs(dominant_hz(x, 16000) - 1000) < 5


def test_bad_files_raise_value_errors(tmp_path):
  with pytest.raises(ValueError, match="no such audio file"):
    audio.read_audio(str(tmp_path / "missing.wav"))
  junk = tmp_path / "junk.wav"
  junk.write_bytes(b"this is not audio at all")
  with pytest.raises(ValueError, match="junk.wav"):
    audio.read_audio(str(junk))


def test_flac_without_soundfile_names_the_package(tmp_path, monkeypatch):
  import sys
  monkeypatch.setitem(sys.modules, "soundfile", None)  # import fails
  flac = tmp_path / "a.flac"
  flac.write_bytes(b"fLaC" + b"\0" * 100)
  with pytest.raises(ValueError, match="pip install soundfile"):
    audio.read_audio(str(flac))


def test_streaming_wav_header_from_a_pipe():
  """espeak-ng --stdout writes 0x7fffffff lengths: read to the end."""
  data = bytearray(audio.wav_bytes(tone(300, 0.1)))
  data[4:8] = data[40:44] = (0x7FFFFFFF).to_bytes(4, "little")
  samples, rate = audio.parse_wav_bytes(bytes(data))
  assert rate == 16000 and samples.shape == (1600, 1)


def test_spec_augment_masks_bands_and_short_spans():
  feats = tf.ones([300, 80])
  out = audio.spec_augment(feats, [3, 0], freq_masks=2, freq_width=10,
                           time_masks=2, time_width=40,
                           max_time_fraction=0.1).numpy()
  zero_bins = np.all(out == 0, axis=0).sum()
  zero_frames = np.all(out == 0, axis=1).sum()
  assert out.shape == (300, 80)
  assert zero_bins <= 20 and zero_frames <= 60
  # Over several seeds something is masked (not a no-op).
  draws = [audio.spec_augment(feats, [0, i]).numpy() for i in range(5)]
  assert any((d == 0).any() for d in draws)
  assert set(np.unique(np.concatenate(draws))) <= {0.0, 1.0}


def test_spec_augment_masks_are_a_function_of_the_seed():
  feats = tf.ones([300, 80])
  tf.random.set_seed(1)
  a = [audio.spec_augment(feats, [7, i]).numpy() for i in range(4)]
  tf.random.set_seed(2)  # the global seed and op counters play no part
  b = [audio.spec_augment(feats, [7, i]).numpy() for i in range(4)]
  for x, y in zip(a, b):
    np.testing.assert_array_equal(x, y)
  assert len({x.tobytes() for x in a}) == 4


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000, 12345])
def test_resample_is_scipy_resample_poly(rate):
  from scipy import signal
  x = np.random.default_rng(rate).normal(0, 0.3, 2001).astype(np.float32)
  up, down = audio.resample_ratio(rate)
  want = signal.resample_poly(x.astype(np.float64), up, down)
  got = audio.resample(x, rate)
  assert len(got) == -(-2001 * up // down)
  np.testing.assert_allclose(got, want.astype(np.float32), rtol=0, atol=0)


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 12345])
def test_in_graph_resample_equals_resample_poly(rate):
  from t2tlite.data.codecs import audio as audio_codec
  x = np.random.default_rng(rate).normal(0, 0.3, 2001).astype(np.float32)
  want = audio.resample(x, rate)
  got = audio_codec.resample(tf.constant(x), rate).numpy()
  np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
  assert audio.to_pcm16(got) == audio.to_pcm16(want)


def test_resample_filters_what_the_new_rate_cannot_hold():
  # 10 kHz is above 16 kHz's Nyquist: without the anti-aliasing filter it
  # would fold to 6 kHz at full amplitude. (The ends hold the abrupt
  # start's and stop's transients.)
  out = audio.resample(tone(10000, seconds=1.0, rate=48000), 48000)
  assert np.abs(out[100:-100]).max() < 0.01


def test_flac_at_any_rate_through_soundfile(tmp_path):
  import soundfile  # a dependency of t2tlite (setup.py)
  path = tmp_path / "a.flac"
  stereo = np.stack([tone(700, 0.5, 48000), tone(700, 0.5, 48000)], axis=1)
  soundfile.write(str(path), stereo, 48000, subtype="PCM_16")
  pcm = audio.load_pcm16(str(path))
  x = np.frombuffer(pcm, "<i2") / 32768.0
  assert len(x) == 8000 and abs(dominant_hz(x, 16000) - 700) < 3
