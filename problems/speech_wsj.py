"""WSJ read speech (LDC93S6 WSJ0 + LDC94S13 CSR-II WSJ1), the paper's task.

The corpus is licensed: point `T2TLITE_WSJ_DIR` (or `<tmp_dir>/wsj`) at
your copy. Any layout of the CD-ROM trees works: the reader walks the
folder, takes utterance audio from `.wv1` (the close-talking microphone)
or `.wav` files and transcripts from `.lsn` (lexical SNOR) or `.dot`
(detailed orthography) files, whose lines read `TEXT (UTTERANCE_ID)`.
Splits follow the usual recipe: train = si_tr_s (SI-284 with WSJ0's),
dev = si_dt_20 (dev93), test = si_et_05 (eval92 5k); the split is the
folder an audio file lies under.

The LDC ships audio as NIST SPHERE compressed with shorten, which this
reader refuses with a clear message: decompress first (`sph2pipe -f wav`
or `-f sph`, from LDC). Uncompressed SPHERE and WAV are read directly.
"""
import collections
import os
import re

import numpy as np

from t2tlite.data import audio
from t2tlite.data import data_io
from t2tlite import registry
from t2tlite.data import speech_problems
from t2tlite.problems import ddtp

SPLIT_DIRS = {"train": ("si_tr_s",), "dev": ("si_dt_20",),
              "test": ("si_et_05",)}
AUDIO_EXTENSIONS = (".wv1", ".wav")
_LINE = re.compile(r"^(.*)\((\w+)\)\s*$")


class SphereError(ValueError):
  """A SPHERE file this reader cannot use; the message says why."""


def read_sphere_header(data, path="<bytes>"):
  """The fields of a NIST_1A header: {name: int or str}, plus header size."""
  if not data.startswith(b"NIST_1A"):
    raise SphereError(f"{path}: not a NIST SPHERE file (no NIST_1A)")
  lines = data[:1024].split(b"\n")
  try:
    size = int(lines[1].strip())
  except (IndexError, ValueError):
    raise SphereError(f"{path}: malformed SPHERE header size") from None
  fields = {"header_size": size}
  for line in data[:size].split(b"\n")[2:]:
    line = line.strip().decode("ascii", "replace")
    if line == "end_head":
      break
    parts = line.split(None, 2)
    if len(parts) == 3:
      name, kind, value = parts
      fields[name] = int(value) if kind == "-i" else (
          float(value) if kind == "-r" else value)
  return fields


def read_sphere(path):
  """An uncompressed PCM SPHERE file -> (float32 mono samples, rate)."""
  with open(path, "rb") as f:
    data = f.read()
  h = read_sphere_header(data, path)
  coding = str(h.get("sample_coding", "pcm"))
  if "shorten" in coding or "wavpack" in coding:
    raise SphereError(f"{path} is {coding}-compressed: decompress it with "
                      "LDC's sph2pipe (`sph2pipe -f wav IN OUT`) first")
  if not coding.startswith("pcm"):
    raise SphereError(f"{path}: sample_coding {coding} is not PCM")
  width, channels = h.get("sample_n_bytes", 2), h.get("channel_count", 1)
  if width != 2:
    raise SphereError(f"{path}: {width}-byte samples (only 16-bit PCM)")
  order = ">i2" if h.get("sample_byte_format", "01") == "10" else "<i2"
  raw = data[h["header_size"]:]
  raw = raw[:len(raw) - len(raw) % (2 * channels)]
  samples = np.frombuffer(raw, order).astype(np.float32) / 32768.0
  return samples.reshape(-1, channels).mean(axis=1), int(h["sample_rate"])


def clean_transcript(text):
  """A .dot/.lsn line's text -> plain lowercase words.

  Drops noise markers ([loud_breath]), verbal punctuation (\\period,
  .PERIOD in SNOR) and fragments' markers; keeps the words.
  """
  words = []
  for token in text.split():
    if token.startswith("[") or token.startswith("\\") or (
        token.startswith(".") and token[1:].isupper()):
      continue
    token = token.strip("<>*~:!")
    if token.startswith("-") or token.endswith("-"):  # a cut-off word
      continue
    if token and token != ".":
      words.append(token.lower())
  return " ".join(words)


def read_transcripts(root):
  """{utterance id: text} from every .lsn and .dot under root (.lsn wins)."""
  found = {".dot": {}, ".lsn": {}}
  for folder, _, files in os.walk(root):
    for name in files:
      ext = os.path.splitext(name)[1].lower()
      if ext not in found:
        continue
      with open(os.path.join(folder, name), encoding="latin-1") as f:
        for line in f:
          m = _LINE.match(line.strip())
          if m:
            found[ext][m.group(2).lower()] = clean_transcript(m.group(1))
  return {**found[".dot"], **found[".lsn"]}


def find_audio(root, split):
  """{utterance id: path} of the split's audio (.wv1 preferred to .wav)."""
  found = collections.OrderedDict()
  for folder, dirs, files in os.walk(root):
    dirs.sort()
    parts = set(os.path.normpath(folder).lower().split(os.sep))
    if not parts & set(SPLIT_DIRS[split]):
      continue
    for name in sorted(files):
      stem, ext = os.path.splitext(name)
      if ext.lower() in AUDIO_EXTENSIONS:
        key = stem.lower()
        if key not in found or ext.lower() == ".wv1":
          found[key] = os.path.join(folder, name)
  return found


def load_utterance(path):
  """A .wv1 (SPHERE) or .wav file -> 16 kHz int16 PCM bytes."""
  with open(path, "rb") as f:
    head = f.read(7)
  if head == b"NIST_1A":
    samples, rate = read_sphere(path)
    return audio.to_pcm16(audio.resample(samples, rate))
  return audio.load_pcm16(path)


@registry.register_problem
class SpeechWsj(speech_problems.SpeechProblem):
  """WSJ SI-284 -> dev93 / eval92, from the user's LDC copy."""

  vocab_name = ddtp.SHARED_VOCAB

  num_shards = {"train": 20, "dev": 1, "test": 1}
  manual_env = "T2TLITE_WSJ_DIR"

  def manual_dir(self, tmp_dir):
    path = os.environ.get(self.manual_env) or os.path.join(tmp_dir, "wsj")
    if not os.path.isdir(path):
      raise data_io.DataError(
          f"{self.name} needs your copy of the LDC WSJ corpora (LDC93S6, "
          f"LDC94S13): set {self.manual_env} to its folder (or put it in "
          f"{os.path.join(tmp_dir, 'wsj')})")
    return path

  def utterances(self, tmp_dir, split):
    root = self.manual_dir(tmp_dir)
    texts = read_transcripts(root)
    paths = find_audio(root, split)
    missing = [u for u in paths if u not in texts]
    if not paths:
      raise data_io.DataError(f"{self.name}: no {split} audio "
                              f"({'/'.join(SPLIT_DIRS[split])}) under {root}")
    if len(missing) == len(paths):
      raise data_io.DataError(f"{self.name}: no transcript (.dot/.lsn) "
                              f"for any {split} utterance under {root}")
    for utt, path in paths.items():
      if utt in texts and texts[utt]:
        yield load_utterance(path), texts[utt]

  def load_file(self, path):
    """Decoding also takes the corpus's own SPHERE files."""
    if not os.path.isfile(path):
      raise audio.AudioError(f"no such audio file: {path}")
    return load_utterance(path)
