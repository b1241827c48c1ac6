"""Raw inputs to model inputs, and model outputs to text, in TF ops only.

An exported SavedModel must preprocess exactly as the decoder does, with no
Python: `Problem.decode_input` and `Problem.format_output` run in Python, so
each kind of input and output has its graph twin here, tested against them.

  text      sentencepiece in-graph (tensorflow-text's SentencepieceTokenizer
            runs the same C++ library as the decoder's SubwordVocab, so the
            normalisation and segmentation are identical by construction).
  image     tf.io.decode_image, alpha composited on the problem's background,
            channels converted, then the problem's own (graph-safe)
            `transform` for evaluation.
  audio     16-bit PCM WAV via tf.audio.decode_wav, channels averaged,
            resampled to 16 kHz by the polyphase Kaiser FIR filter of
            scipy.signal.resample_poly (t2tlite.data.audio.resample),
            rounded to 16-bit PCM, then the problem's features.
"""
import numpy as np
import tensorflow as tf

from t2tlite.data import audio
from t2tlite import errors
from t2tlite import system_deps
from t2tlite.data import vocab as vocab_lib


class ExportError(errors.UserError, ValueError):
  """A problem or model that cannot be exported faithfully."""


# --- text -------------------------------------------------------------------
def sentencepiece_tokenizer(model_path):
  """tensorflow-text's tokenizer holding the vocabulary's serialised model."""
  text = system_deps.require_module(
      "tensorflow_text", "tensorflow-text",
      "exporting text problems (in-graph sentencepiece)")
  with open(model_path, "rb") as f:
    proto = f.read()
  return text.SentencepieceTokenizer(model=proto, out_type=tf.int32)


def encode_text(tokenizer, strings, max_length):
  """Strings [B] -> ids [B, T] int64: TextProblem.decode_input in-graph.

  The decoder strips the trailing newline, keeps max_length - 1 pieces and
  appends EOS; blank inputs get just EOS here (the caller blanks their
  outputs, as the decoder leaves blank lines blank).
  """
  strings = tf.strings.regex_replace(strings, "\n+$", "")
  ids = tokenizer.tokenize(strings)[:, :max_length - 1]
  eos = tf.fill([tf.shape(strings)[0], 1], vocab_lib.EOS_ID)
  ids = tf.concat([ids, tf.RaggedTensor.from_tensor(eos)], axis=1)
  return tf.cast(ids.to_tensor(), tf.int64)


def _before_eos(ids):
  """ids [B, T] -> ragged [B, (t)]: the pieces before the first EOS, >= 2.

  That is SubwordVocab.decode's filter: padding and EOS never reach the
  detokenizer, unknown pieces (id 2) do.
  """
  ids = tf.cast(ids, tf.int32)
  seen_eos = tf.cumsum(tf.cast(tf.equal(ids, vocab_lib.EOS_ID), tf.int32),
                       axis=1) > 0
  keep = (~seen_eos) & (ids >= vocab_lib.UNK_ID)
  return tf.ragged.boolean_mask(ids, keep)


def decode_subwords(tokenizer, ids):
  """Generated ids [B, T] -> strings [B], as SubwordVocab.decode."""
  return tokenizer.detokenize(_before_eos(ids))


def decode_chars(ids):
  """Generated ids [B, T] -> strings [B], as CharVocab.decode (bytes + 3)."""
  ids = _before_eos(ids)
  keep = tf.ragged.boolean_mask(ids, ids >= 3)
  table = tf.constant([bytes([b]) for b in range(256)])
  raw = tf.strings.reduce_join(tf.gather(table, keep - 3), axis=1)
  return tf.strings.unicode_transcode(raw, "UTF-8", "UTF-8",
                                      errors="replace",
                                      replacement_char=0xFFFD)


# --- images -----------------------------------------------------------------
def _to_channels(image, channels, background):
  """uint8 [H, W, c], c in 1..4 unknown until run time -> [H, W, channels].

  image_utils.to_channels needs the channel count in Python; one branch
  per count gives it that.
  """
  from t2tlite.data import image_utils

  def branch(c):
    return lambda: image_utils.to_channels(
        tf.ensure_shape(image, [None, None, c]), channels, background)

  return tf.switch_case(tf.shape(image)[-1] - 1,
                        [branch(c) for c in (1, 2, 3, 4)])


def image_inputs(problem, hparams):
  """fn(encoded images [B]) -> uint8 [B, S, S, C]: ImageProblem.decode_input."""
  size = problem.input_size(hparams)

  def one(data):
    image = tf.io.decode_image(data, channels=0, dtype=tf.uint8,
                               expand_animations=False)
    image = _to_channels(image, problem.channels, problem.background)
    return problem.transform(image, hparams, training=False)

  spec = tf.TensorSpec([size, size, problem.channels], tf.uint8)
  return lambda strings: tf.map_fn(one, strings, fn_output_signature=spec)


# --- audio ------------------------------------------------------------------
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


def audio_inputs(problem, hparams):
  """fn(WAV files' bytes [B]) -> padded features: SpeechProblem.decode_input."""
  from t2tlite.data import speech_problems
  if type(problem).pcm_to_inputs is not (
      speech_problems.SpeechProblem.pcm_to_inputs):
    raise ExportError(f"problem '{problem.name}' computes its own audio "
                      "features (pcm_to_inputs); they cannot be exported")
  waveform = problem.input_modality == "audio_waveform"
  del hparams  # features at decoding never use SpecAugment

  def one(data):
    x = wav_to_waveform(data)
    return x if waveform else audio.normalize(audio.log_mel(x))

  shape = [None] if waveform else [None, audio.NUM_MEL_BINS]
  spec = tf.RaggedTensorSpec(shape, tf.float32, ragged_rank=0)

  def fn(strings):
    return tf.map_fn(one, strings, fn_output_signature=spec).to_tensor()

  return fn
