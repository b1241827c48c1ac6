"""Audio: stored PCM or a WAV/FLAC file (any rate, any channels) -> input.

Stored examples hold 16 kHz 16-bit mono PCM ("audio"); the pipeline
computes the features (`pcm_to_inputs`: log-mel frames, or the waveform).
In training, the waveform may first be sped up or slowed down and given
noise (`perturb`: config.speed_perturb, config.noise_snr_db; drawn anew at
every pass from the example's stream seed), and the log-mel frames masked
(SpecAugment: config.spec_augment; masks keyed by the utterance). Batches
are bucketed
by length in 10 ms frames (a waveform of N samples counts N / 160) and hold
about config.audio_batch_frames (0: config.batch_size) frames; longer
utterances than config.audio_max_frames are dropped.

Decode inputs are read as 16 kHz 16-bit mono PCM (SpeechProblem.load_file:
soundfile, resampled by scipy.signal.resample_poly), then given the same
features. The graph form takes 16-bit PCM WAV bytes: tf.audio.decode_wav,
channels averaged, resampled to 16 kHz by the same polyphase Kaiser FIR
filter as scipy's (designed in-graph for the file's rate), rounded to
16-bit PCM, then the same features.
"""
import numpy as np
import tensorflow as tf

from t2tlite import registry
from t2tlite.data import audio
from t2tlite.data.codecs import base


@registry.register_codec("audio")
class AudioCodec(base.Codec):
  """Audio inputs of a SpeechProblem: log-mel features."""

  raw_kind = "audio"
  waveform = False

  # --- storage: 16 kHz 16-bit mono PCM ---------------------------------------
  def encode(self, value):
    """16 kHz int16 PCM (bytes, or an int16 array) -> the stored audio."""
    if isinstance(value, np.ndarray):
      if value.dtype != np.int16:
        raise ValueError(f"{self.problem.name}: audio must be 16 kHz int16 "
                         f"PCM, not {value.dtype}")
      value = value.tobytes()
    if not isinstance(value, bytes):
      raise ValueError(f"{self.problem.name}: audio must be PCM bytes, not "
                       f"{type(value).__name__}")
    return {"audio": value}

  # --- reading stored examples ----------------------------------------------
  def feature_spec(self):
    return {"audio": tf.io.FixedLenFeature([], tf.string)}

  def needs_seed(self, config, training):
    return bool(training and (config.speed_perturb or config.noise_snr_db))

  def to_model(self, example, config, training, seed=None):
    return self.pcm_to_inputs(example["audio"], config, training, seed)

  def pcm_to_inputs(self, pcm, config, training, seed=None):
    """PCM bytes (scalar string tensor) -> the model's input features.
    `seed` (int [2]) draws the waveform perturbation in training; without
    one, it is keyed by the utterance, as SpecAugment's masks are."""
    x = audio.pcm16_to_waveform(pcm)
    if self.needs_seed(config, training):
      if seed is None:
        seed = spec_augment_seed(pcm, config)
      x = perturb(x, seed, config.speed_perturb, config.noise_snr_db)
    if self.waveform:
      return x
    features = audio.features_of(x, config.audio_floor_db)
    if training and config.spec_augment:
      features = audio.spec_augment(features, spec_augment_seed(pcm, config))
    return features

  def frames(self, inputs):
    """Length of model inputs in 10 ms frames (the bucketing length)."""
    n = tf.shape(inputs)[0]
    if self.waveform:
      return (n + audio.FRAME_STEP - 1) // audio.FRAME_STEP
    return n

  def batching(self, config):
    """By frames (the targets' side adds its own length: bucketing by
    frames alone left 30% of the transcripts' positions padded)."""
    return base.BatchSide(
        length=self.frames, max_length=config.audio_max_frames,
        budget=config.audio_batch_frames or config.batch_size,
        min_length=50,
        padded_shape=(None,) if self.waveform else (None, audio.NUM_MEL_BINS))

  # --- decoding -------------------------------------------------------------
  def from_line(self, line, config):
    """A WAV or FLAC file's path -> model inputs (any rate and channels)."""
    p = self.problem
    path = line.strip()
    if not path:
      raise ValueError("empty line: expected the path of a WAV or FLAC file")
    pcm = p.load_file(path)
    inputs = self.pcm_to_inputs(tf.constant(pcm), config, False).numpy()
    seconds = len(pcm) / 2 / audio.SAMPLE_RATE
    max_frames = config.audio_max_frames
    warning = None
    if audio.num_frames(len(pcm) // 2) > max_frames:
      warning = (f"{seconds:.1f} s of audio is longer than the "
                 f"{max_frames / 100:.0f} s the model trains on")
    return inputs, warning

  def graph_inputs(self, config):
    """fn(WAV files' bytes [B]) -> padded features, as from_line."""
    waveform = self.waveform
    floor = config.audio_floor_db  # (never SpecAugment at decoding)

    def one(data):
      x = wav_to_waveform(data)
      return x if waveform else audio.features_of(x, floor)

    shape = [None] if waveform else [None, audio.NUM_MEL_BINS]
    spec = tf.RaggedTensorSpec(shape, tf.float32, ragged_rank=0)

    def fn(strings):
      return tf.map_fn(one, strings, fn_output_signature=spec).to_tensor()

    example = np.zeros([1] if waveform else [1, 1], np.float32)
    return fn, example


@registry.register_codec("audio_waveform")
class AudioWaveformCodec(AudioCodec):
  """Audio inputs as the raw waveform."""

  waveform = True


def spec_augment_seed(pcm, config):
  """The stateless seed of one utterance's SpecAugment masks.

  (config.seed, a 63-bit hash of the utterance's PCM): the same masks
  for the same utterance in every construction of the pipeline, resumed
  or not, and different masks for different utterances.
  """
  return tf.stack([tf.constant(int(config.seed), tf.int64),
                   tf.strings.to_hash_bucket_fast(pcm, (1 << 63) - 1)])


def perturb(x, seed, speed=0.0, noise_snr_db=0.0):
  """Waveform augmentation (float32 samples [N] at 16 kHz), a function of
  `seed` (int [2]) alone.

  speed: the clip is played at 1 - speed, 1 or 1 + speed times its speed
  (one of three, equally likely: Ko et al. 2015's speed perturbation, as
  Kaldi's recipes use it), by resampling it as if it had been recorded at
  16 kHz times that factor (`_fft_resample`): tempo and pitch change
  together, and the number of samples by 1 / factor.
  noise_snr_db: white Gaussian noise at a signal-to-noise ratio drawn
  uniformly from [noise_snr_db, noise_snr_db + 20] dB of the clip's mean
  power (silence included).
  """
  seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
  if speed:
    ratios = [_ratio(1.0 - speed), (1, 1), _ratio(1.0 + speed)]
    pick = tf.random.stateless_uniform([], seeds[0], 0, 3, dtype=tf.int32)
    x = tf.switch_case(pick, [
        (lambda r=r: x if r == (1, 1) else _fft_resample(x, *r))
        for r in ratios])
  if noise_snr_db:
    snr = tf.random.stateless_uniform([], seeds[1], noise_snr_db,
                                      noise_snr_db + 20.0)
    power = tf.reduce_mean(tf.square(x))
    scale = tf.sqrt(power / tf.pow(10.0, snr / 10.0))
    x = x + scale * tf.random.stateless_normal(tf.shape(x), seeds[2])
  return x


def _ratio(factor):
  """(up, down): a speed factor as a ratio of small ints (1.1 -> (10, 11))."""
  import fractions
  f = fractions.Fraction(factor).limit_denominator(100)
  return f.denominator, f.numerator


def _fft_resample(x, up, down):
  """x [N] resampled by up / down (python ints) with an ideal low-pass:
  the spectrum cut or zero-padded, as scipy.signal.resample does. The clip
  is first padded with silence to a multiple of down * 1024 samples, so
  both transforms have lengths the FFT handles fast (the polyphase
  `resample` below, exact for files, is too slow to run on every
  training clip)."""
  n = tf.shape(x)[0]
  block = down * 1024
  n_pad = (n + block - 1) // block * block
  m_pad = n_pad // down * up
  spec = tf.signal.rfft(tf.pad(x, [[0, n_pad - n]]), [n_pad])
  bins = m_pad // 2 + 1
  keep = tf.minimum(bins, tf.shape(spec)[0])
  spec = tf.pad(spec[:keep], [[0, bins - keep]])
  y = tf.signal.irfft(spec, [m_pad]) * (up / down)
  return y[:(n * up + down - 1) // down]


# --- graph ops ----------------------------------------------------------------
def _gcd(a, b):
  def body(a, b):
    return b, tf.math.floormod(a, b)
  return tf.while_loop(lambda a, b: b > 0, body, (a, b))[0]


def _kaiser_lowpass(half_len, cutoff, beta=5.0):
  """scipy.signal.firwin(2 * half_len + 1, cutoff, window=("kaiser", beta))
  in float64 TF ops: a windowed sinc, scaled to unit gain at DC."""
  m = tf.cast(tf.range(-half_len, half_len + 1), tf.float64)
  h = cutoff * _sinc(cutoff * m)
  ratio = m / tf.cast(tf.maximum(half_len, 1), tf.float64)
  beta = tf.constant(beta, tf.float64)
  win = (tf.math.special.bessel_i0(beta * tf.sqrt(1.0 - ratio * ratio)) /
         tf.math.special.bessel_i0(beta))
  h *= win
  return h / tf.reduce_sum(h)


def _sinc(x):
  """numpy.sinc: sin(pi x) / (pi x), 1 at 0."""
  px = np.pi * x
  safe = tf.where(tf.equal(x, 0.0), tf.ones_like(px), px)
  return tf.where(tf.equal(x, 0.0), tf.ones_like(px), tf.sin(safe) / safe)


def resample(samples, rate, target=audio.SAMPLE_RATE):
  """audio.resample (scipy.signal.resample_poly) in float64 TF ops.

  The same Kaiser-windowed FIR filter, designed in-graph for the file's
  rate (known only at run time), and the same polyphase sum: output k is
  sum_j h[k * down + half_len - j * up] x[j], over the ceil(len(h) / up)
  taps of h that land on input samples.
  """
  n = tf.cast(tf.size(samples), tf.int64)
  rate = tf.cast(rate, tf.int64)

  def convert():
    g = _gcd(rate, tf.constant(target, tf.int64))
    up, down = target // g, rate // g
    max_rate = tf.maximum(up, down)
    half_len = 10 * max_rate
    length = 2 * half_len + 1
    h = _kaiser_lowpass(half_len, 1.0 / tf.cast(max_rate, tf.float64))
    h *= tf.cast(up, tf.float64)
    n_out = (n * up + down - 1) // down
    c = tf.range(n_out, dtype=tf.int64) * down + half_len  # [n_out]
    taps = (length + up - 1) // up
    t = tf.range(taps, dtype=tf.int64)
    j = c[:, None] // up - t[None, :]                       # [n_out, taps]
    idx = (c % up)[:, None] + t[None, :] * up
    valid = (j >= 0) & (j < n) & (idx < length)
    x = tf.cast(samples, tf.float64)
    xs = tf.gather(x, tf.clip_by_value(j, 0, tf.maximum(n - 1, 0)))
    hs = tf.gather(h, tf.minimum(idx, length - 1))
    out = tf.reduce_sum(tf.where(valid, xs * hs, tf.zeros_like(xs)), axis=1)
    return tf.cast(out, tf.float32)

  same = tf.equal(rate, target) | tf.equal(n, 0)
  return tf.cond(same, lambda: tf.cast(samples, tf.float32), convert)


def wav_to_waveform(data):
  """16-bit PCM WAV bytes (scalar) -> float32 [N] as audio.pcm16_to_waveform
  gives for the file's 16 kHz PCM (audio.load_pcm16)."""
  samples, rate = tf.audio.decode_wav(data)
  mono = tf.reduce_mean(samples, axis=1)
  x = resample(mono, rate)
  pcm = tf.clip_by_value(tf.round(tf.cast(x, tf.float64) * 32768.0),
                         -32768.0, 32767.0)
  return (tf.cast(pcm, tf.float32) + 0.5) / 32768.0
