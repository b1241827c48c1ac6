"""Reading audio files and turning waveforms into model features.

Everything the speech problems share: reading WAV (Python's `wave`) or any
format soundfile knows (FLAC, OGG, ...) at any rate and channel count,
resampling to 16 kHz, 16-bit PCM packing, and the input pipeline's log-mel
features (80 bins, 25 ms windows, 10 ms hop) with per-utterance
normalisation and SpecAugment-style masking.
"""
import io
import math
import os
import wave

import numpy as np

from t2tlite import errors

SAMPLE_RATE = 16000
NUM_MEL_BINS = 80
FRAME_LENGTH = 400        # 25 ms at 16 kHz
FRAME_STEP = 160          # 10 ms at 16 kHz
FFT_LENGTH = 512
LOWER_HZ, UPPER_HZ = 80.0, 7600.0  # below 80 Hz the filters are 1 FFT bin wide


class AudioError(errors.UserError, ValueError):
  """A file that is missing, unreadable or not audio; the message says which."""


# --- reading ----------------------------------------------------------------
def _pcm_to_float(raw, sample_width):
  """Little-endian PCM bytes -> float32 in [-1, 1)."""
  if sample_width == 1:  # 8-bit WAV is unsigned
    return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
  if sample_width == 2:
    return np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
  if sample_width == 3:
    b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
    v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    v = np.where(v >= 1 << 23, v - (1 << 24), v)
    return v.astype(np.float32) / float(1 << 23)
  if sample_width == 4:
    return np.frombuffer(raw, "<i4").astype(np.float32) / float(1 << 31)
  raise AudioError(f"unsupported PCM sample width {sample_width} bytes")


def parse_wav_bytes(data):
  """A RIFF/WAVE PCM file's bytes -> (float32 samples [N, C], rate).

  Tolerates the length fields 0x7fffffff that streaming writers (espeak-ng
  --stdout) put in the header, by reading the data chunk to the end.
  """
  if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
    raise AudioError("not a RIFF/WAVE file")
  pos, fmt = 12, None
  while pos + 8 <= len(data):
    cid, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8],
                                                  "little")
    body = pos + 8
    if cid == b"fmt ":
      fmt = data[body:body + 16]
    elif cid == b"data":
      if fmt is None:
        raise AudioError("WAV data chunk before its fmt chunk")
      tag, channels, rate = (int.from_bytes(fmt[0:2], "little"),
                             int.from_bytes(fmt[2:4], "little"),
                             int.from_bytes(fmt[4:8], "little"))
      width = int.from_bytes(fmt[14:16], "little") // 8
      if tag not in (1, 0xFFFE):
        raise AudioError(f"WAV format tag {tag} is not PCM")
      raw = data[body:min(len(data), body + size)]
      frame = width * channels
      raw = raw[:len(raw) - len(raw) % frame]
      return _pcm_to_float(raw, width).reshape(-1, channels), rate
    pos = body + size + (size & 1)
  raise AudioError("WAV file without a data chunk")


def read_audio(path):
  """Any audio file -> (float32 mono samples [N], sample rate).

  Uses soundfile when it is installed (WAV, FLAC, OGG, ...); otherwise
  Python's own `wave` reader, which handles PCM WAV only. Channels are
  averaged.
  """
  if not os.path.isfile(path):
    raise AudioError(f"no such audio file: {path}")
  try:
    import soundfile
  except ImportError:
    soundfile = None
  if soundfile is not None:
    try:
      samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except RuntimeError as e:  # soundfile.LibsndfileError
      raise AudioError(f"cannot read audio file {path}: {e}") from None
  else:
    with open(path, "rb") as f:
      head = f.read(4)
    if head != b"RIFF":
      kind = "FLAC" if head == b"fLaC" else "this format"
      raise AudioError(f"reading {kind} ({path}) needs the Python package "
                       "soundfile: run `pip install soundfile`")
    try:
      with wave.open(path, "rb") as w:
        rate, width, channels = (w.getframerate(), w.getsampwidth(),
                                 w.getnchannels())
        raw = w.readframes(w.getnframes())
      samples = _pcm_to_float(raw, width).reshape(-1, channels)
    except (wave.Error, EOFError) as e:
      raise AudioError(f"cannot read WAV file {path}: {e}") from None
  if samples.size == 0:
    raise AudioError(f"audio file {path} holds no samples")
  return samples.mean(axis=1).astype(np.float32), int(rate)


def resample_ratio(rate, target=SAMPLE_RATE):
  """(up, down): the rates' ratio target / rate in lowest terms."""
  g = math.gcd(int(rate), int(target))
  return int(target) // g, int(rate) // g


def resample(samples, rate, target=SAMPLE_RATE):
  """Polyphase anti-aliased resampling: scipy.signal.resample_poly.

  Its default filter (firwin, Kaiser window beta 5, 20 * max(up, down) + 1
  taps, cutoff at the lower Nyquist), run in float64; ceil(N * up / down)
  samples out. codecs.audio.resample computes the same in TF ops.
  """
  samples = np.asarray(samples, np.float32)
  if rate == target or samples.size == 0:
    return samples
  from scipy import signal
  up, down = resample_ratio(rate, target)
  out = signal.resample_poly(samples.astype(np.float64), up, down)
  return out.astype(np.float32)


def to_pcm16(samples):
  """float samples in [-1, 1] -> little-endian int16 bytes (clipped)."""
  x = np.clip(np.round(np.asarray(samples) * 32768.0), -32768, 32767)
  return x.astype("<i2").tobytes()


def load_pcm16(path):
  """Any audio file -> 16 kHz mono int16 bytes, as the problems store it."""
  samples, rate = read_audio(path)
  return to_pcm16(resample(samples, rate))


# --- features (TensorFlow, in the input pipeline) ---------------------------
def pcm16_to_waveform(pcm):
  """int16 PCM bytes (scalar string tensor) -> float32 samples [N].

  Maps sample s to (s + 0.5) / 32768, so no real sample is exactly 0: the
  zeros that batching pads with then mark padding unambiguously, even
  inside the digital silence a TTS engine writes.
  """
  import tensorflow as tf
  ints = tf.io.decode_raw(pcm, tf.int16, little_endian=True)
  return (tf.cast(ints, tf.float32) + 0.5) / 32768.0


def log_mel(waveform, num_mel_bins=NUM_MEL_BINS):
  """float32 samples [N] at 16 kHz -> log-mel energies [ceil(N / 160), 80].

  Hann windows of 25 ms every 10 ms (the last one zero-padded), power
  spectrum, triangular mel filters from 80 to 7600 Hz, natural log.
  """
  import tensorflow as tf
  stft = tf.signal.stft(waveform, FRAME_LENGTH, FRAME_STEP, FFT_LENGTH,
                        window_fn=tf.signal.hann_window, pad_end=True)
  power = tf.math.square(tf.abs(stft))
  weights = tf.signal.linear_to_mel_weight_matrix(
      num_mel_bins, FFT_LENGTH // 2 + 1, SAMPLE_RATE, LOWER_HZ, UPPER_HZ)
  return tf.math.log(tf.matmul(power, weights) + 1e-6)


def floor_db(features, db):
  """Log-mel [T, F] clipped below at the clip's maximum minus `db` decibels
  (Whisper's 80): a TTS engine's digital silence sits near log(1e-6) =
  -13.8, far below speech (0 to 6), and would otherwise dominate the
  normalisation's mean and variance. db <= 0 returns the features as
  they are."""
  if not db or db <= 0:
    return features
  import tensorflow as tf
  nats = float(db) * math.log(10.0) / 10.0   # power dB -> natural log
  return tf.maximum(features, tf.reduce_max(features) - nats)


def normalize(features):
  """Per-utterance mean and variance normalisation of each mel bin [T, F]."""
  import tensorflow as tf
  mean, var = tf.nn.moments(features, axes=[0], keepdims=True)
  return (features - mean) * tf.math.rsqrt(var + 1e-5)


def spectral_features(pcm, floor=0.0):
  """Stored PCM bytes -> normalised log-mel features [T, 80], float32."""
  return features_of(pcm16_to_waveform(pcm), floor)


def features_of(waveform, floor=0.0):
  """Samples [N] -> the model's log-mel features: floored (`floor_db`),
  then normalised per utterance."""
  return normalize(floor_db(log_mel(waveform), floor))


def num_frames(num_samples):
  """Feature frames of a signal of `num_samples` samples (pad_end=True)."""
  return int(math.ceil(num_samples / FRAME_STEP))


def spec_augment(features, seed, freq_masks=2, freq_width=15, time_masks=2,
                 time_width=40, max_time_fraction=0.1):
  """SpecAugment-style masking (Park et al. 2019) without time warping.

  `freq_masks` bands of up to `freq_width` mel bins and `time_masks` spans
  of up to min(time_width, max_time_fraction * T) frames are set to 0,
  which is the utterance mean after `normalize`. A whole masked frame reads
  as padding to the modality's mask, which also hides it from attention:
  the model must fill it in from context, as SpecAugment intends.

  The masks are a function of `seed` (int [2], as tf.random's stateless
  ops take) alone: no stateful random op, so an input pipeline restored
  from a checkpoint draws exactly the masks an uninterrupted run would.
  """
  import tensorflow as tf

  seeds = iter(tf.unstack(tf.random.experimental.stateless_split(
      tf.cast(seed, tf.int64), 2 * (freq_masks + time_masks))))

  def uniform(maxval):  # an int in [0, maxval)
    maxval = tf.maximum(tf.cast(maxval, tf.int32), 1)
    return tf.random.stateless_uniform([], next(seeds), 0, maxval,
                                       dtype=tf.int32)

  t, f = tf.shape(features)[0], tf.shape(features)[1]
  keep = tf.ones_like(features)
  for _ in range(freq_masks):
    width = uniform(freq_width + 1)
    start = uniform(f - width + 1)
    band = (tf.range(f) >= start) & (tf.range(f) < start + width)
    keep *= 1.0 - tf.cast(band, features.dtype)[None, :]
  limit = tf.minimum(time_width, tf.cast(
      max_time_fraction * tf.cast(t, tf.float32), tf.int32))
  for _ in range(time_masks):
    width = uniform(limit + 1)
    start = uniform(t - width + 1)
    span = (tf.range(t) >= start) & (tf.range(t) < start + width)
    keep *= 1.0 - tf.cast(span, features.dtype)[:, None]
  return features * keep


def wav_bytes(samples, rate=SAMPLE_RATE):
  """float samples -> a 16-bit mono WAV file's bytes (for tests and tools)."""
  buf = io.BytesIO()
  with wave.open(buf, "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(rate)
    w.writeframes(to_pcm16(samples))
  return buf.getvalue()
