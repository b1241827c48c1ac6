"""Debian package-description translations (DDTP): real en/de/fr text.

Debian's translators translate package descriptions by hand; apt serves them
as `Translation-xx` indexes. This module fetches them with apt's own
configured sources, aligns English with German and French sentences, and
splits the result so that no sentence is on two sides of a split. It also
registers the shared 8k subword vocabulary ("shared_subword_8k"), which the
paper shared across all its tasks, and the problem aliases translate_ende and
translate_enfr (the default en->de / en->fr problems, T2T's names).

Public API (other problems call these):
  fetch_indexes(tmp_dir)               -> {lang: path of the plain text index}
  aligned_pairs(tmp_dir, lang, split)  -> [(en, xx)], lang "de" or "fr"
  english_sentences(tmp_dir, split)    -> [en], for speech and parsing
  split_of(sentence)                   -> "train" | "dev" | "test"
Results are cached as files under tmp_dir/ddtp, so later calls are fast;
delete that folder to fetch and align again.

Yield on bookworm main (pairs train/dev/test): en-de 39,672/1,298/1,219,
en-fr 66,748/2,154/2,017; English sentences 106,286/3,369/3,416.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess

from t2tlite import registry
from t2tlite import system_deps
from t2tlite.data import trees
from t2tlite.data import vocab as vocab_lib

# The 8k subword vocabulary every embedded text problem shares, as the
# paper shared one across tasks (registered below).
SHARED_VOCAB = "shared_subword_8k"
from t2tlite.problems import ddtp_text

LANGS = ("en", "de", "fr")
SPLITS = ("train", "dev", "test")
SUITE = "bookworm"  # The release the yields above were measured on.
# Per mille of English sentence clusters in dev and test; the rest is train.
DEV_PER_MILLE, TEST_PER_MILLE = 30, 30
CACHE_VERSION = 1
APT_HELPER = "/usr/lib/apt/apt-helper"


def ddtp_dir(tmp_dir):
  return os.path.join(tmp_dir, "ddtp")


def index_path(tmp_dir, lang):
  return os.path.join(ddtp_dir(tmp_dir), f"Translation-{lang}.txt")


def _atomic_write(path, text):
  tmp = f"{path}.tmp{os.getpid()}"
  with open(tmp, "w", encoding="utf-8") as f:
    f.write(text)
  os.replace(tmp, path)


# --- fetching -----------------------------------------------------------------
def _index_files(lists_dir, lang):
  """apt's index files of one language: main of SUITE, its own first.

  The release's own index comes first so that its record of an md5 wins
  over -updates and -security (parse_index keeps the first).
  """
  pattern = re.compile(rf"_dists_{SUITE}(-security|-updates)?_main_i18n_"
                       rf"Translation-{lang}(\.\w+)?$")
  found = [(m.group(1) or "", f) for f in os.listdir(lists_dir)
           for m in [pattern.search(f)] if m]
  return [os.path.join(lists_dir, f) for _, f in sorted(found)]


def fetch_indexes(tmp_dir):
  """Fetches the en/de/fr indexes as tmp_dir/ddtp/Translation-xx.txt.

  apt-get update runs with a private lists folder (and no package cache),
  so the system's apt state is untouched; a language whose text file is
  already there is not fetched again.
  """
  paths = {lang: index_path(tmp_dir, lang) for lang in LANGS}
  if all(os.path.exists(p) for p in paths.values()):
    return paths
  apt_get = shutil.which("apt-get")
  if not apt_get or not os.path.exists(APT_HELPER):
    raise system_deps.MissingDependency(
        "the DDTP translation data is fetched with Debian's apt (apt-get and "
        f"{APT_HELPER}), which this system lacks; put Translation-en.txt, "
        f"-de.txt and -fr.txt (apt's i18n indexes as text) in "
        f"{ddtp_dir(tmp_dir)} instead")
  lists = os.path.join(ddtp_dir(tmp_dir), "lists")
  os.makedirs(os.path.join(lists, "partial"), exist_ok=True)
  cmd = [apt_get, "update", "-q", "-o", "Acquire::Languages=en,de,fr",
         "-o", f"Dir::State::Lists={lists}",
         "-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache="]
  proc = subprocess.run(cmd, capture_output=True, text=True)
  if proc.returncode != 0:
    tail = "\n".join(proc.stderr.strip().splitlines()[-3:])
    raise RuntimeError(f"fetching the DDTP indexes failed: {' '.join(cmd)}:"
                       f"\n{tail}")
  for lang, path in paths.items():
    if os.path.exists(path):
      continue
    files = _index_files(lists, lang)
    if not files:
      raise RuntimeError(
          f"apt fetched no {SUITE} main Translation-{lang} index into {lists}"
          f"; the DDTP problems need {SUITE} (main) in apt's sources")
    parts = []
    for f in files:
      out = subprocess.run([APT_HELPER, "cat-file", f], capture_output=True,
                           text=True, check=True)
      parts.append(out.stdout)
    _atomic_write(path, "\n".join(parts))
  return paths


# --- splitting ------------------------------------------------------------------
def cluster_key(sentence):
  """Sentences equal up to case, digits and punctuation share one key.

  Boilerplate recurs with small changes ("the Python 2 library" / "the
  Python 3 library"); such near-copies must land in the same split.
  """
  return re.sub(r"[\W\d_]+", "", sentence.lower())


def _hash(text):
  return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:12], 16)


def split_of(sentence):
  """The split of an English sentence: a stable hash of its cluster key.

  Every DDTP user (translation, speech, parsing, vocabulary) splits by this
  rule, so an English sentence is in the same split everywhere.
  """
  bucket = _hash(cluster_key(sentence)) % 1000
  if bucket < DEV_PER_MILLE:
    return "dev"
  if bucket < DEV_PER_MILLE + TEST_PER_MILLE:
    return "test"
  return "train"


def _hash_order(items, key):
  """A deterministic order that looks shuffled (round-robin shards mix)."""
  return sorted(items, key=lambda x: (_hash(key(x)), key(x)))


def split_pairs(pairs):
  """Deduplicated pairs -> {split: pairs}, no sentence on two sides.

  The split follows the English side (split_of); a dev or test pair whose
  translation (up to cluster_key) also occurs in train is dropped, and so
  is a test pair whose translation occurs in dev.
  """
  out = {s: [] for s in SPLITS}
  for en, xx in set(pairs):
    out[split_of(en)].append((en, xx))
  seen = {cluster_key(xx) for _, xx in out["train"]}
  for split in ("dev", "test"):
    out[split] = [p for p in out[split] if cluster_key(p[1]) not in seen]
    seen |= {cluster_key(xx) for _, xx in out[split]}
  return {s: _hash_order(p, "\t".join) for s, p in out.items()}


# --- cached results -------------------------------------------------------------
def _cache_path(tmp_dir, name):
  return os.path.join(ddtp_dir(tmp_dir), f"cache-v{CACHE_VERSION}", name)


def _read_lines(path):
  with open(path, encoding="utf-8") as f:
    return f.read().splitlines()


def _read_records(tmp_dir, lang):
  path = fetch_indexes(tmp_dir)[lang]
  with open(path, encoding="utf-8") as f:
    return ddtp_text.parse_index(f, lang)


def _build_pairs(tmp_dir, lang):
  """Aligns, splits and writes pairs.{lang}.{split}.tsv and stats."""
  pairs, stats = ddtp_text.align_records(_read_records(tmp_dir, "en"),
                                         _read_records(tmp_dir, lang))
  by_split = split_pairs(pairs)
  stats.update({f"pairs_{s}": len(p) for s, p in by_split.items()})
  os.makedirs(os.path.dirname(_cache_path(tmp_dir, "x")), exist_ok=True)
  for split, items in by_split.items():
    _atomic_write(_cache_path(tmp_dir, f"pairs.{lang}.{split}.tsv"),
                  "".join(f"{en}\t{xx}\n" for en, xx in items))
  _atomic_write(_cache_path(tmp_dir, f"stats.{lang}.json"),
                json.dumps(stats, indent=1, sort_keys=True))
  return by_split


def aligned_pairs(tmp_dir, lang, split):
  """Sentence pairs (English, lang) of one split, lang "de" or "fr".

  Short descriptions, sentences and list items aligned 1:1 (see
  ddtp_text), deduplicated, split by split_of(English) with leaks of the
  translated side removed, in a fixed hash order.
  """
  if lang not in ("de", "fr") or split not in SPLITS:
    raise ValueError(f"no DDTP pairs for lang={lang!r} split={split!r}")
  path = _cache_path(tmp_dir, f"pairs.{lang}.{split}.tsv")
  if not os.path.exists(path):
    return _build_pairs(tmp_dir, lang)[split]
  return [tuple(line.split("\t")) for line in _read_lines(path)]


def english_sentences(tmp_dir, split):
  """English prose sentences of every DDTP description, of one split.

  For problems that speak or parse English text. The sentences come from
  all English long descriptions (translated or not): prose only (no list
  items, no preformatted lines), 3 to 40 words, ending in . ! or ?,
  deduplicated, split by split_of() exactly like the translation pairs,
  in a fixed hash order. Train has about 100k sentences.
  """
  if split not in SPLITS:
    raise ValueError(f"unknown split {split!r}")
  path = _cache_path(tmp_dir, f"english.{split}.txt")
  if os.path.exists(path):
    return _read_lines(path)
  sentences = set()
  for record in _read_records(tmp_dir, "en").values():
    sentences.update(ddtp_text.prose_sentences(record))
  by_split = {s: [] for s in SPLITS}
  for s in sentences:
    by_split[split_of(s)].append(s)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  for name, items in by_split.items():
    items[:] = _hash_order(items, lambda x: x)
    _atomic_write(_cache_path(tmp_dir, f"english.{name}.txt"),
                  "".join(s + "\n" for s in items))
  return by_split[split]


# --- the shared vocabulary ------------------------------------------------------
MAX_VOCAB_LINES = 200_000


def shared_vocab_text(tmp_dir):
  """Train-split DDTP text in en, de and fr (each English sentence once)."""
  seen_en, n = set(), 0
  for lang in ("de", "fr"):
    for en, xx in aligned_pairs(tmp_dir, lang, "train"):
      lines = [xx] if en in seen_en else [en, xx]
      seen_en.add(en)
      for line in lines:
        if n >= MAX_VOCAB_LINES:
          return
        n += 1
        yield line


vocab_lib.register_vocab(
    SHARED_VOCAB, 8192, shared_vocab_text,
    description="One 8k subword vocabulary shared by every text task, as in "
    "the paper; trained on the train split of Debian DDTP en/de/fr text.",
    # Parse trees share this vocabulary (as in the paper): keep their
    # brackets whole, or a tree costs 2.3 pieces per token instead of ~1.
    symbols=trees.vocab_symbols())


# The default English->German and English->French problems, T2T's names for
# them: aliases of the DDTP problems (registered in translate_ddtp.py; an
# alias resolves at lookup), sharing their data files, vocabulary and _rev.
registry.register_problem_alias("translate_ende", "translate_ende_ddtp")
registry.register_problem_alias("translate_enfr", "translate_enfr_ddtp")
