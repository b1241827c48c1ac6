"""speech_tts_en: real English sentences spoken by real speech synthesisers.

No Debian package ships a speech corpus of useful size, but espeak-ng and
flite speak offline and fast. The sentences are the English DDTP prose of
t2tlite.problems.ddtp (split exactly as there, so no sentence is in two
splits), 3 to 20 words of plain text. Each utterance gets a voice, a
variant, a speed and a pitch drawn from its split's own pools: the dev and
test splits are spoken only by base voices (and variants) that training
never hears, so their WER measures recognition of unseen speakers.

Datagen runs the engines as separate processes, `workers` at a time (one
per core by default); Python threads only wait on their pipes, so the
engines use every core without forking a process that holds TensorFlow.
"""
import concurrent.futures
import os
import random
import re
import subprocess

from t2tlite.data import audio
from t2tlite.data import data_io
from t2tlite import registry
from t2tlite import system_deps
from t2tlite.data import speech_problems
from t2tlite.problems import ddtp

# Whole base voices are held out: dev and test accents never occur in train.
ESPEAK_VOICES = {
    "train": ("en-us", "en-gb", "en-gb-x-gbclan", "en-gb-x-rp", "en-us-nyc"),
    "dev": ("en-gb-x-gbcwmd",),
    "test": ("en-gb-scotland", "en-029"),
}
# Variants ("" is the voice's own) change the speaker's timbre; held out too.
ESPEAK_VARIANTS = {
    "train": ("", "m1", "m2", "m3", "m4", "m5", "m6", "f1", "f2", "f3",
              "klatt", "klatt2", "klatt3", "whisper"),
    "dev": ("m7", "f4", "klatt4"),
    "test": ("m8", "f5", "klatt5"),
}
# flite's voices are distinct speakers; kal16 is kal's speaker, so both
# stay in train. No flite voice is left for dev.
FLITE_VOICES = {"train": ("kal16", "awb", "rms"), "dev": (), "test": ("slt",)}
FLITE_SHARE = 0.2  # of a split's utterances, when it has flite voices

_PLAIN = re.compile(r"^[A-Za-z0-9 ,.;:'!?()\"-]+$")
# Identifiers an engine spells out: Foo::Bar, foo.conf, v2.1, e.g.
_CODE_LIKE = re.compile(r"[:.;]{2}|\w[:.;]\w")


def usable_sentence(text, min_words=3, max_words=20):
  """Plain prose an engine reads as written: no paths, URLs or symbols."""
  n = len(text.split())
  return (min_words <= n <= max_words and bool(_PLAIN.match(text)) and
          not _CODE_LIKE.search(text) and any(c.isalpha() for c in text))


def voice_for(split, index, flite=True):
  """The deterministic (engine, arguments, label) of one utterance."""
  rng = random.Random(f"{split}/{index}")
  if flite and FLITE_VOICES[split] and rng.random() < FLITE_SHARE:
    voice = rng.choice(FLITE_VOICES[split])
    stretch = round(rng.uniform(0.8, 1.25), 2)
    return ("flite", ["-voice", voice, "--setf",
                      f"duration_stretch={stretch}"], f"flite/{voice}")
  voice = rng.choice(ESPEAK_VOICES[split])
  variant = rng.choice(ESPEAK_VARIANTS[split])
  name = voice + (f"+{variant}" if variant else "")
  speed, pitch = rng.randint(120, 220), rng.randint(20, 80)
  return ("espeak-ng", ["-v", name, "-s", str(speed), "-p", str(pitch)],
          f"espeak-ng/{name}")


def speak(engine, args, text):
  """Runs one engine on `text` -> 16 kHz int16 PCM bytes."""
  if engine == "espeak-ng":  # text on stdin: a leading '-' is not an option
    cmd, stdin = ["espeak-ng"] + args + ["--stdout"], text.encode("utf-8")
  else:
    cmd, stdin = ["flite"] + args + ["-t", text, "-o", "/dev/stdout"], None
  proc = subprocess.run(cmd, input=stdin, capture_output=True, check=False)
  if proc.returncode != 0 or len(proc.stdout) < 100:
    raise data_io.DataError(f"{' '.join(cmd[:-1])} failed on {text!r}: "
                            f"{proc.stderr.decode(errors='replace')[-300:]}")
  samples, rate = audio.parse_wav_bytes(proc.stdout)
  return audio.to_pcm16(audio.resample(samples.mean(axis=1), rate))


def ordered_map(fn, items, workers, window=256):
  """fn over items on `workers` threads, in order, at most `window` ahead."""
  with concurrent.futures.ThreadPoolExecutor(workers) as pool:
    pending = []
    for item in items:
      pending.append(pool.submit(fn, item))
      if len(pending) >= window:
        yield pending.pop(0).result()
    for future in pending:
      yield future.result()


@registry.register_problem
class SpeechTtsEn(speech_problems.SpeechProblem):
  """English DDTP sentences spoken by espeak-ng and flite; unseen test voices.

  The spectral problem ("audio" modality, log-mel features); see
  speech_tts_en_waveform and speech_tts_en_chars for its twins.
  """

  vocab_name = ddtp.SHARED_VOCAB

  num_utterances = {"train": 10000, "dev": 500, "test": 500}
  num_shards = {"train": 10, "dev": 1, "test": 1}
  workers = None  # engine processes at a time; None: one per core
  min_words, max_words = 3, 20

  def sentences(self, tmp_dir, split):
    return [s for s in ddtp.english_sentences(tmp_dir, split)
            if usable_sentence(s, self.min_words, self.max_words)]

  def jobs(self, tmp_dir, split, flite=True):
    """(text, engine, args, voice label) of every utterance of a split.

    A split with fewer sentences than utterances speaks them again, each
    time in another voice.
    """
    sentences = self.sentences(tmp_dir, split)
    if not sentences:
      raise data_io.DataError(f"{self.name}: no usable {split} sentences")
    for i in range(self.num_utterances[split]):
      engine, args, label = voice_for(split, i, flite)
      yield sentences[i % len(sentences)], engine, args, label

  def utterances(self, tmp_dir, split):
    system_deps.ensure_debian_packages(["espeak-ng", "flite"],
                                       f"{self.name} datagen")
    workers = self.workers or os.cpu_count() or 1
    total = self.num_utterances[split]
    progress = data_io.Progress(f"{self.name} {split}: speaking", total)
    jobs = list(self.jobs(tmp_dir, split))

    def run(job):
      text, engine, args, _ = job
      return speak(engine, args, text), text

    for pcm, text in ordered_map(run, jobs, workers):
      progress.update()
      yield pcm, text
    progress.done()


@registry.register_problem
class SpeechTtsEnWaveform(SpeechTtsEn):
  """speech_tts_en from raw 16 kHz samples ("audio_waveform"), same files."""

  input_modality = "audio_waveform"
  shares_data_of = "speech_tts_en"


@registry.register_problem
class SpeechTtsEnChars(SpeechTtsEn):
  """speech_tts_en with character (UTF-8 byte) targets, same files."""

  vocab_name = "char"  # UTF-8 bytes (t2tlite.data.vocab.CharVocab)
  shares_data_of = "speech_tts_en"


@registry.register_problem
class SpeechTtsEnLower(SpeechTtsEn):
  """speech_tts_en with lowercase character targets (vocab "char_lower":
  letters, digits, apostrophe, space), normalised as WER scores them;
  same files."""

  vocab_name = "char_lower"
  shares_data_of = "speech_tts_en"
