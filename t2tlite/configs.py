"""Settings split by who reads them.

A registered hparams set stays one `HParams` (T2T's way to write a recipe:
one name, one place, overridable with --hparams), but the library reads it
through three views:

  ModelConfig  the HParams itself: the models, modalities and optimiser
               read their settings from it (hidden_size, dropout, ...).
  DataConfig   what the input pipeline and the codecs read: batch sizes,
               length caps, image size and augmentation, SpecAugment and
               its seed. Built once where data is read (pipeline.batched,
               the decoder, the exporter); a codec never sees the model's
               settings.
  RunConfig    what the trainer reads about the run: seed, precision, XLA,
               the non-finite policy.

Both views are frozen and typed, with no defaults of their own: every
value comes from the HParams (hparams_lib.defaults() is the one place a
default lives; a run written before a key existed gets it through
hparams_lib.fill_defaults when its t2tlite_run.json is read).
"""
import dataclasses

@dataclasses.dataclass(frozen=True)
class DataConfig:
  batch_size: int          # tokens per batch (audio: frames, see below)
  max_length: int          # longer examples are dropped
  image_batch_size: int    # images per batch
  image_size: int          # side of the image input; 0: the problem's
  image_augment: bool      # random crops, shifts and flips in training
  audio_max_frames: int    # longer utterances (10 ms frames) are dropped
  audio_batch_frames: int  # frames per audio batch; 0: batch_size
  spec_augment: bool       # SpecAugment masks in training
  speed_perturb: float     # speed factors 1 - s, 1, 1 + s in training; 0: off
  noise_snr_db: float      # white noise at SNR in [v, v + 20] dB; 0: off
  audio_floor_db: float    # log-mel floor below each clip's max; 0: none
  seed: int                # the masks' seed (the run's seed)


@dataclasses.dataclass(frozen=True)
class RunConfig:
  seed: int
  mixed_precision: str     # "" (float32) or "bfloat16" (old runs: a bool)
  jit_compile: bool
  max_nonfinite_steps: int


def _view(cls, settings):
  if settings is None or isinstance(settings, cls):
    return settings
  # HParams already checks each value's type against its default's; the
  # values are taken as they are (an old run's mixed_precision may be the
  # bool it once was, which model.dtype_policy_name still reads).
  return cls(**{f.name: getattr(settings, f.name)
                for f in dataclasses.fields(cls)})


def data_config(settings):
  """The DataConfig of an HParams (a DataConfig or None is returned as
  it is)."""
  return _view(DataConfig, settings)


def run_config(settings):
  """The RunConfig of an HParams."""
  return _view(RunConfig, settings)
