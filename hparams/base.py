"""Settings every model and the trainer read; other sets derive from these."""
from t2tlite.hparams_lib import HParams


def basic_params():
  """Optimiser, batching and regularisation shared by every model."""
  return HParams(
      hidden_size=128,
      batch_size=4096,            # tokens per batch (examples for images)
      max_length=128,             # longer examples are dropped (and counted)
      learning_rate=2.0,          # scale of the noam schedule below
      learning_rate_schedule="rsqrt_decay",  # or "constant"
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
      audio_min_filters=0,        # floor on audio filters; 0: the paper's
      audio_freq_strides=0,       # audio blocks that also halve frequency
      # Joint CTC-attention (t2tlite/layers/ctc.py): weight of a CTC loss
      # on the encoder output of audio problems; 0 builds no CTC head.
      ctc_weight=0.0,
  )
