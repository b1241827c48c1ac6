"""Transformer hparams sets."""
from t2tlite import registry
from t2tlite.hparams import base


@registry.register_hparams
def transformer_base():
  """Vaswani et al.'s base model: 6+6 layers, d 512, ff 2048, 8 heads."""
  return base.basic_params().replace(
      hidden_size=512, learning_rate=2.0, warmup_steps=4000,
      max_length=256).add(
          filter_size=2048, num_heads=8, num_encoder_layers=6,
          num_decoder_layers=6, attention_dropout=0.1, relu_dropout=0.1)


@registry.register_hparams
def transformer_small():
  """2+2 layers of 256: a CPU model that learns real translation in minutes."""
  return transformer_base().replace(
      hidden_size=256, filter_size=1024, num_heads=4, num_encoder_layers=3,
      num_decoder_layers=3, batch_size=4096, max_length=96,
      learning_rate=2.0, warmup_steps=1000)


@registry.register_hparams
def transformer_speech_small():
  """The reference recipe for speech (issue 15, front end fixed in issue
  34): transformer_small behind a conventional front end over log-mel,
  joint CTC-attention.

  The front end is ESPnet's Conv2dSubsampling
  (t2tlite/modalities/audio_subsampling.py, which shares no code with the
  MultiModel's audio net): two full 3x3 convolutions of stride 2 with 32
  filters and a ReLU (40 ms frames, 80 bins -> 20), then a dense
  projection to d 256; a CTC loss of weight 0.5 on the encoder (Kim et al.
  2017); transcripts of up to 200 bytes (the byte-target problem
  speech_tts_en_chars).
  """
  return transformer_small().replace(
      max_length=200, ctc_weight=0.5, audio_stem_filters=32,
      modality_overrides="audio=audio_conv2d_subsampling")


@registry.register_hparams
def transformer_speech_small_convres():
  """transformer_speech_small before issue 34: two of the MultiModel's
  ConvRes blocks as the front end, whose first block sees only the sign of
  the one-channel log-mel (t2tlite/modalities/audio.py). Kept so that runs
  written with it load and can be compared.
  """
  return transformer_small().replace(
      max_length=200, audio_blocks=2, audio_time_strides=2,
      audio_freq_strides=2, audio_min_filters=32, ctc_weight=0.5)


@registry.register_hparams
def transformer_tiny():
  """For tests: trains in seconds."""
  return transformer_base().replace(
      hidden_size=32, filter_size=64, num_heads=2, num_encoder_layers=1,
      num_decoder_layers=1, batch_size=512, max_length=64,
      learning_rate=0.01, learning_rate_schedule="constant",
      warmup_steps=10, dropout=0.0, attention_dropout=0.0, relu_dropout=0.0)
