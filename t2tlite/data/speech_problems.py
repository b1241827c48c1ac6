"""Speech recognition: audio in, an English transcript out.

Storage. Each example holds its audio as 16-bit mono PCM at 16 kHz
("audio", bytes), its transcript ("transcript") and the transcript's ids in
the shared subword vocabulary ("targets", EOS-terminated). Features are
computed in the input pipeline, not at datagen: float32 log-mel frames take
as many bytes per second as the PCM (80 x 4 bytes every 10 ms = 32 KB/s),
and PCM lets the spectral problem, its raw-waveform twin and its character
twin share one set of files, lets SpecAugment mask fresh features every
epoch, and lets the feature settings change without a new datagen.

Batching. Examples are bucketed by length in 10 ms frames (a waveform of N
samples counts N / 160) and a batch holds about
hparams.audio_batch_frames (0: hparams.batch_size) frames, so the
default batch_size of 4096 is about 41 s of audio. Utterances longer than
hparams.audio_max_frames frames (3,000: 30 s) or with more than
max_length target tokens are dropped. Targets are padded with 0.
"""

from t2tlite.data import audio
from t2tlite.data import problem as problem_lib
from t2tlite.data import pipeline
from t2tlite.data import vocab as vocab_lib


class SpeechProblem(problem_lib.Problem):
  """Subclasses implement `utterances(tmp_dir, split)`."""

  input_modality = "audio"
  target_modality = "text"
  task_token = "to_transcript_en"
  metrics = ("wer", "cer", "distinct")
  target_codec = "transcript"  # scored against the transcript as spoken
  num_shards = {"train": 10, "dev": 1, "test": 1}
  max_decode_length = 128
  # A variant (waveform input, character targets) reads the files of the
  # problem named here instead of generating its own.
  shares_data_of = None
  char_targets = False

  @property
  def data_name(self):
    return self.shares_data_of or super().data_name

  # --- data generation ------------------------------------------------------
  def utterances(self, tmp_dir, split):
    """Yields (16 kHz int16 PCM bytes, transcript) of one split."""
    raise NotImplementedError

  def target_text(self, transcript):
    """The text the model learns to write for a transcript."""
    return transcript

  def generate_examples(self, data_dir, tmp_dir, split):
    # Stored targets are always subword ids: character twins derive theirs
    # from the transcript in the pipeline.
    subwords = problem_lib.Problem.vocab(self, data_dir)
    for pcm, transcript in self.utterances(tmp_dir, split):
      text = self.target_text(transcript)
      yield {"audio": pcm, "transcript": text,
             "targets": subwords.encode(text) + [vocab_lib.EOS_ID]}

  def example_length(self, example):
    return len(example["targets"])

  # --- vocabulary: subwords by default, bytes for char twins ----------------
  def vocab(self, data_dir):
    if self.char_targets:
      return vocab_lib.CharVocab()
    return super().vocab(data_dir)

  # --- reading --------------------------------------------------------------
  def feature_spec(self):
    import tensorflow as tf
    return {"audio": tf.io.FixedLenFeature([], tf.string),
            "transcript": tf.io.FixedLenFeature([], tf.string),
            "targets": tf.io.VarLenFeature(tf.int64)}

  def pcm_to_inputs(self, pcm, hparams, training):
    """PCM bytes (scalar string tensor) -> the input modality's features."""
    if self.input_modality == "audio_waveform":
      return audio.pcm16_to_waveform(pcm)
    features = audio.spectral_features(pcm)
    if training and hparams.spec_augment:
      features = audio.spec_augment(features, self.spec_augment_seed(
          pcm, hparams))
    return features

  def spec_augment_seed(self, pcm, hparams):
    """The stateless seed of one utterance's SpecAugment masks.

    (hparams.seed, a 63-bit hash of the utterance's PCM): the same masks
    for the same utterance in every construction of the pipeline, resumed
    or not, and different masks for different utterances.
    """
    import tensorflow as tf
    return tf.stack([tf.constant(int(hparams.seed), tf.int64),
                     tf.strings.to_hash_bucket_fast(pcm, (1 << 63) - 1)])

  def preprocess(self, example, hparams, training):
    import tensorflow as tf
    if self.char_targets:  # CharVocab: UTF-8 bytes shifted by 3, then EOS
      chars = tf.cast(tf.io.decode_raw(example["transcript"], tf.uint8),
                      tf.int64) + 3
      targets = tf.concat([chars, [vocab_lib.EOS_ID]], axis=0)
    else:
      targets = example["targets"]
    return {"inputs": self.pcm_to_inputs(example["audio"], hparams, training),
            "targets": targets}

  def frames(self, inputs):
    """Length of model inputs in 10 ms frames (the bucketing length)."""
    import tensorflow as tf
    n = tf.shape(inputs)[0]
    if self.input_modality == "audio_waveform":
      return (n + audio.FRAME_STEP - 1) // audio.FRAME_STEP
    return n

  def batching(self, hparams):
    """Bucketed by frames and target length (by frames alone, 30% of the
    transcripts' positions were padding); evaluation by frames."""
    import tensorflow as tf
    inputs_shape = ([None] if self.input_modality == "audio_waveform" else
                    [None, audio.NUM_MEL_BINS])
    return pipeline.Batching(
        lengths=(lambda ex: self.frames(ex["inputs"]),
                 lambda ex: tf.shape(ex["targets"])[0]),
        max_lengths=(hparams.audio_max_frames, hparams.max_length),
        budgets=(hparams.audio_batch_frames or hparams.batch_size,
                 hparams.batch_size),
        min_lengths=(50, 8),
        padded_shapes={"inputs": inputs_shape, "targets": [None]})

  # --- decoding (the audio codec reads files with this) ---------------------
  def load_file(self, path):
    """An audio file -> 16 kHz int16 PCM; raises a ValueError if unusable."""
    return audio.load_pcm16(path)
