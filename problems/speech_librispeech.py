"""LibriSpeech (Panayotov et al. 2015) through the tfds `librispeech` builder.

Train is train_clean100 + train_clean360 (460 h), dev is dev_clean, test is
test_clean. The builder downloads about 60 GB from the corpus's site on
first use and prepares it under the TFDS data dir (TFDS_DATA_DIR, or
~/tensorflow_datasets); with no internet, prepare it elsewhere and copy it
there. Transcripts are upper case without punctuation: they are
lowercased, which suits the shared vocabulary's mostly lower-case pieces.
"""
from t2tlite import system_deps
from t2tlite import registry
from t2tlite.data import speech_problems
from t2tlite.problems import ddtp


@registry.register_problem
class SpeechLibrispeech(speech_problems.SpeechProblem):
  """460 h of read audiobooks, 16 kHz; WER on test_clean."""

  vocab_name = ddtp.SHARED_VOCAB

  tfds_name = "librispeech"
  tfds_splits = {"train": "train_clean100+train_clean360",
                 "dev": "dev_clean", "test": "test_clean"}
  tfds_data_dir = None  # None: tfds's default (TFDS_DATA_DIR honoured)
  num_shards = {"train": 100, "dev": 2, "test": 2}
  max_decode_length = 256

  def target_text(self, transcript):
    return transcript.lower()

  def utterances(self, tmp_dir, split):
    tfds = system_deps.require_module("tensorflow_datasets",
                                      "tensorflow-datasets", self.name)
    ds = tfds.load(self.tfds_name, split=self.tfds_splits[split],
                   data_dir=self.tfds_data_dir, shuffle_files=False,
                   download=True)
    for ex in tfds.as_numpy(ds):
      # "speech" is int16 at 16 kHz already: store it as it is.
      yield ex["speech"].astype("<i2").tobytes(), ex["text"].decode("utf-8")


@registry.register_problem
class SpeechLibrispeechWaveform(SpeechLibrispeech):
  """speech_librispeech from raw samples, same files."""

  input_modality = "audio_waveform"
  shares_data_of = "speech_librispeech"
