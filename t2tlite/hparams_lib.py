"""Immutable, typed hyper-parameters.

An `HParams` holds a fixed set of keys, each with the type of its default
value. It never changes in place: `replace()` and `override()` return new
objects, and both reject an unknown key (naming the nearest valid one) or a
value of the wrong type. This is what T2T's flat mutable hparams lacked.
"""
import difflib
import json

from t2tlite import errors


class HParamsError(errors.UserError, ValueError):
  """An unknown key, a wrong type or a malformed override string."""


_TYPES = (bool, int, float, str)


def _check_type(key, value, expected):
  if expected is float and isinstance(value, int) and not isinstance(
      value, bool):
    return float(value)
  if type(value) is not expected:  # bool is an int subclass: be exact.
    raise HParamsError(f"hparam '{key}' takes a {expected.__name__}, "
                       f"got {type(value).__name__} {value!r}")
  return value


def _parse_value(key, text, expected):
  text = text.strip()
  if expected is bool:
    low = text.lower()
    if low in ("true", "1", "yes"):
      return True
    if low in ("false", "0", "no"):
      return False
    raise HParamsError(f"hparam '{key}' takes a bool, got {text!r}")
  if expected is str:
    return text
  try:
    return expected(text)
  except ValueError:
    raise HParamsError(f"hparam '{key}' takes a {expected.__name__}, "
                       f"got {text!r}") from None


class HParams:
  """A frozen mapping of typed values, read as attributes."""

  __slots__ = ("_values", "_types")

  def __init__(self, **values):
    types = {}
    for key, value in values.items():
      if not isinstance(value, _TYPES):
        raise HParamsError(f"hparam '{key}' has unsupported type "
                           f"{type(value).__name__}")
      types[key] = type(value)
    object.__setattr__(self, "_values", dict(values))
    object.__setattr__(self, "_types", types)

  def __getattr__(self, key):
    values = object.__getattribute__(self, "_values")
    if key in values:
      return values[key]
    raise AttributeError(self._unknown(key))

  def __setattr__(self, key, value):
    raise HParamsError("HParams are immutable; use replace() or override()")

  def __contains__(self, key):
    return key in self._values

  def __eq__(self, other):
    return isinstance(other, HParams) and self._values == other._values

  def __repr__(self):
    body = ", ".join(f"{k}={v!r}" for k, v in sorted(self._values.items()))
    return f"HParams({body})"

  def _unknown(self, key):
    close = difflib.get_close_matches(key, list(self._values), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown hparam '{key}'{hint}"

  def values(self):
    return dict(self._values)

  def replace(self, **changes):
    """A copy with existing keys changed (types checked)."""
    new = dict(self._values)
    for key, value in changes.items():
      if key not in self._values:
        raise HParamsError(self._unknown(key))
      new[key] = _check_type(key, value, self._types[key])
    out = HParams(**new)
    object.__setattr__(out, "_types", dict(self._types))
    return out

  def add(self, **values):
    """A copy with new keys (a derived set that needs more settings)."""
    for key in values:
      if key in self._values:
        raise HParamsError(f"hparam '{key}' exists; use replace()")
    return HParams(**{**self._values, **values})

  def override(self, text):
    """Applies 'key=value,key2=value2' (the --hparams flag)."""
    return self.replace(**self.parse(text))

  def parse(self, text):
    """Parses an override string into typed values without applying it."""
    changes = {}
    text = (text or "").strip()
    if not text:
      return changes
    for item in text.split(","):
      if "=" not in item:
        raise HParamsError(f"malformed hparams override {item.strip()!r}: "
                           "expected key=value")
      key, value = item.split("=", 1)
      key = key.strip()
      if not key:
        raise HParamsError(f"malformed hparams override {item.strip()!r}: "
                           "empty key")
      if key in changes:
        raise HParamsError(f"hparam '{key}' is given twice")
      if key not in self._values:
        raise HParamsError(self._unknown(key))
      changes[key] = _parse_value(key, value, self._types[key])
    return changes

  def to_json(self):
    return json.dumps({"values": self._values,
                       "types": {k: t.__name__ for k, t in
                                 self._types.items()}},
                      indent=1, sort_keys=True)

  @classmethod
  def from_json(cls, text):
    data = json.loads(text)
    types = {"bool": bool, "int": int, "float": float, "str": str}
    values = {k: _check_type(k, v, types[data["types"][k]])
              for k, v in data["values"].items()}
    return cls(**values)


def defaults():
  """The settings every model, modality and the trainer read, with their
  defaults: the root of every registered hparams set (hparams/base.py)."""
  return HParams(
      hidden_size=128,
      batch_size=4096,            # tokens per batch (examples for images)
      max_length=128,             # longer examples are dropped (and counted)
      learning_rate=2.0,          # scale of the noam schedule below
      learning_rate_schedule="rsqrt_decay",  # or linear_decay, constant
      learning_rate_decay_steps=0,  # linear_decay: the step lr reaches 0
      warmup_steps=4000,
      adam_beta1=0.9,
      adam_beta2=0.98,
      adam_epsilon=1e-9,
      clip_grad_norm=1.0,         # 0 disables clipping
      label_smoothing=0.1,
      dropout=0.1,
      shared_embedding_and_softmax=True,
      max_nonfinite_steps=10,     # stop after this many bad updates in a row
      # "" (float32) or "bfloat16": Keras' mixed_bfloat16, i.e. compute in
      # bfloat16, variables and optimiser state in float32 (no loss scaling:
      # bfloat16 has float32's exponent range). Logits, losses, softmaxes,
      # layer-norm statistics and MoE routing stay float32.
      mixed_precision="",
      # Compile the train step with XLA. Off by default: on 2-core CPUs it
      # made a plain transformer ~10% slower, and it recompiles for every
      # new batch shape (each length bucket).
      jit_compile=False,
      seed=1234,
      # Modality settings (0 means "the problem's or modality's default").
      image_batch_size=32,        # images per batch (batch_size is tokens)
      image_size=0,               # resize images to this side; 0: problem's
      image_augment=True,         # random crop / shift and flip in training
      image_filters_scale=1.0,    # scales the image nets' filter counts
      audio_blocks=8,             # ConvRes blocks of the audio nets (paper)
      audio_time_strides=0,       # blocks that stride in time; 0: default
      audio_max_filters=0,        # cap on audio filters; 0: hidden_size
      audio_mel_bins=80,
      audio_max_frames=3000,      # longer utterances (10 ms frames) dropped
      audio_batch_frames=0,       # frames per audio batch; 0: batch_size
      spec_augment=False,         # SpecAugment-style masks in training
      # Waveform augmentation in training (t2tlite/data/codecs/audio.py):
      # each utterance, at every pass, played at speed 1 - s, 1 or 1 + s
      # (Ko et al. 2015; 0: off), then white noise added at an SNR drawn
      # from [noise_snr_db, noise_snr_db + 20] dB (0: off).
      speed_perturb=0.0,
      noise_snr_db=0.0,
      audio_min_filters=0,        # floor on audio filters; 0: the paper's
      audio_freq_strides=0,       # audio blocks that also halve frequency
      audio_stem_filters=0,       # > 0: a full conv stem (modalities/audio)
      # Log-mel floor: each clip's features clipped at its maximum minus
      # this many dB before normalisation (Whisper's 80); 0: no floor.
      audio_floor_db=0.0,
      # "from=to,...": build modality `to` wherever a problem names `from`
      # (T2T's input_modalities), e.g. audio=audio_conv2d_subsampling.
      modality_overrides="",
      # Joint CTC-attention (t2tlite/layers/ctc.py): weight of a CTC loss
      # on the encoder output of audio problems; 0 builds no CTC head.
      ctc_weight=0.0,
  )


def fill_defaults(hparams):
  """(hparams with every key of defaults() it lacks, the keys added): how a
  run configuration written before a key existed is read back."""
  missing = {k: v for k, v in defaults().values().items()
             if k not in hparams.values()}
  if not missing:
    return hparams, []
  return hparams.add(**missing), sorted(missing)
