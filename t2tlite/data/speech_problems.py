"""Speech recognition: audio in, an English transcript out.

Storage. Each example holds its audio as 16-bit mono PCM at 16 kHz
("audio", bytes), its transcript ("transcript") and the transcript's ids in
the shared subword vocabulary ("targets", EOS-terminated). Features are
computed in the input pipeline, not at datagen: float32 log-mel frames take
as many bytes per second as the PCM (80 x 4 bytes every 10 ms = 32 KB/s),
and PCM lets the spectral problem, its raw-waveform twin and its character
twin share one set of files, lets SpecAugment mask fresh features every
epoch, and lets the feature settings change without a new datagen.

Reading. The "audio" codec computes the features and says how batches
are bucketed (by frames; about hparams.audio_batch_frames, or
hparams.batch_size, frames per batch: 4,096 is about 41 s of audio), the
"transcript" codec gives the targets (subword ids, or the transcript's
bytes for a character twin). Utterances longer than
hparams.audio_max_frames frames (3,000: 30 s) or with more than
max_length target tokens are dropped.
"""

from t2tlite.data import audio
from t2tlite.data import problem as problem_lib


class SpeechProblem(problem_lib.Problem):
  """Subclasses implement `utterances(tmp_dir, split)`."""

  input_modality = "audio"
  target_modality = "text"
  task_token = "to_transcript_en"
  metrics = ("wer", "cer", "distinct")
  codecs = (None, "transcript")  # scored against the transcript as spoken
  num_shards = {"train": 10, "dev": 1, "test": 1}
  max_decode_length = 128
  # A twin (waveform input; character targets, vocab_name "char") reads
  # the files of the problem named in shares_data_of.

  # --- data generation ------------------------------------------------------
  def utterances(self, tmp_dir, split):
    """Yields (16 kHz int16 PCM bytes, transcript) of one split."""
    raise NotImplementedError

  def target_text(self, transcript):
    """The text the model learns to write for a transcript."""
    return transcript

  def generate_examples(self, tmp_dir, split):
    # The "transcript" codec stores the text and its subword ids: character
    # twins derive theirs from the text in the pipeline.
    for pcm, transcript in self.utterances(tmp_dir, split):
      yield {"inputs": pcm, "targets": self.target_text(transcript)}

  # --- decoding (the audio codec reads files with this) ---------------------
  def load_file(self, path):
    """An audio file -> 16 kHz int16 PCM; raises a ValueError if unusable."""
    return audio.load_pcm16(path)
