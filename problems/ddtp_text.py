"""The DDTP index format, and sentence alignment of its descriptions.

An index (apt's `Translation-xx`) holds records separated by blank lines:

  Package: 0ad
  Description-md5: d943033bedada21853d2ae54a2578a7b
  Description-de: <short description>
   <long description, lines indented by one space>
   .
   <a " ." line separates paragraphs>

Lines indented by more than one space are preformatted (Debian policy);
translators use them mostly for list items ("  - item", "  * item").

Alignment rules (English with one language, records joined by md5):
  1. the short descriptions are a pair;
  2. long descriptions are paired paragraph by paragraph when both have
     the same number of paragraphs;
  3. a paragraph is cut into units: each list item is one unit, each other
     preformatted line one unit, and running prose is cut into sentences
     by `split_sentences`; units are paired 1:1 only when both paragraphs
     have the same sequence of unit kinds;
  4. preformatted non-list lines (code, tables) make no pair, and a pair is
     kept only if both sides have a letter, differ, and the character
     length ratio xx/en is in [0.5, 2].
"""
import collections
import re
import unicodedata

Record = collections.namedtuple("Record", ["package", "short", "long_lines"])

MIN_RATIO, MAX_RATIO = 0.5, 2.0
# A list item: a bullet mark, then a space; "o" is a bullet in Debian text.
_BULLET = re.compile(r"^(?:[*+\-\u2022\u00b7\u2013\u2014\u2212\u2023\u25e6o]"
                     r"|\d{1,2}[.)])\s+")
# Zero-width characters and the byte order mark vanish.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
# French DDTP writes a thin space before ':;!?' and inside quotes, sometimes
# as U+22C5 (dot operator); it is a space there.
_DOT_SPACE = re.compile(r"\u22c5(?=[:;!?\u00bb])|(?<=\u00ab)\u22c5")


def normalize(text):
  """NFC; every Unicode space (narrow no-break ...) is one ASCII space."""
  if text.isascii():
    return " ".join(text.split())
  text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
  text = _DOT_SPACE.sub(" ", text)
  text = "".join(" " if unicodedata.category(c) in ("Zs", "Cc") else c
                 for c in text)
  return " ".join(text.split())


def parse_index(lines, lang):
  """Lines of a Translation-<lang> index -> {Description-md5: Record}.

  The first record of an md5 wins (main comes before -security/-updates).
  """
  records = {}
  field = f"Description-{lang}:"
  package = md5 = short = None
  long_lines = []

  def flush():
    if md5 and short is not None and md5 not in records:
      records[md5] = Record(package, short, long_lines)

  in_desc = False
  for line in lines:
    line = line.rstrip("\n")
    if not line.strip():
      flush()
      package = md5 = short = None
      long_lines, in_desc = [], False
    elif line.startswith(" "):
      if in_desc:
        long_lines.append(line[1:])
    else:
      in_desc = line.startswith(field)
      if in_desc:
        short = line[len(field):].strip()
      elif line.startswith("Package:"):
        package = line[len("Package:"):].strip()
      elif line.startswith("Description-md5:"):
        md5 = line[len("Description-md5:"):].strip()
  flush()
  return records


def paragraphs(long_lines):
  """Long-description lines -> paragraphs (lists of lines)."""
  out, current = [], []
  for line in long_lines:
    if line.strip() == ".":
      if current:
        out.append(current)
      current = []
    else:
      current.append(line)
  if current:
    out.append(current)
  return out


# An end of sentence: . ! ? (and closing quotes), space, then a capital,
# digit or opening quote. The word before a "." must not be an
# abbreviation: initials like "e.g." "A.D." "z.B.", a lowercase letter and
# dot ("z. B."), or a word below.
_SENTENCE_END = re.compile(
    r"(?<=[.!?])[\"')\]\u00bb\u201d\u2019]*\s+"
    r"(?=[A-Z\u00c0-\u00de0-9\"'(\u00ab\u201e\u201c\u00bf\u00a1])")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st vs ca cf no nr vol fig approx incl bzw usw ggf evtl "
    "vgl sog inkl bsp mme mlle env ex resp".split())


def _is_abbreviation(word):
  word = word.lstrip("(\"'")
  # A lone capital ends sentences ("written in C."), initials do not.
  return bool(re.fullmatch(r"(?:[^\W\d_]\.){2,}|[^\W\d_A-Z]\.", word) or
              word[:-1].lower() in _ABBREVIATIONS)


def split_sentences(text):
  """Prose -> sentences, by _SENTENCE_END unless an abbreviation ends it."""
  sentences, start = [], 0
  for m in _SENTENCE_END.finditer(text):
    words = text[start:m.start()].split()
    if text[m.start() - 1] == "." and words and _is_abbreviation(words[-1]):
      continue
    sentences.append(text[start:m.start()] + m.group(0).strip())
    start = m.end()
  sentences.append(text[start:])
  return [s.strip() for s in sentences if s.strip()]


def units(paragraph):
  """A paragraph -> [(kind, text)], kind "sentence", "item" or "pre"."""
  out, prose, item = [], [], None

  def flush_prose():
    if prose:
      out.extend(("sentence", s) for s in
                 split_sentences(normalize(" ".join(prose))))
      prose.clear()

  def flush_item():
    if item is not None:
      out.append(("item", normalize(" ".join(item))))

  for line in paragraph:
    stripped = line.strip()
    bullet = _BULLET.match(stripped)
    if bullet:
      flush_prose()
      flush_item()
      item = [stripped[bullet.end():]]
    elif line.startswith(" ") and item is not None:
      item.append(stripped)  # An indented continuation of the list item.
    elif line.startswith(" "):
      flush_prose()
      out.append(("pre", normalize(stripped)))
    else:
      flush_item()
      item = None
      prose.append(stripped)
  flush_prose()
  flush_item()
  return out


def keep_pair(en, xx):
  if en == xx or not re.search(r"[^\W\d_]", en) or not re.search(
      r"[^\W\d_]", xx):
    return False
  return MIN_RATIO <= len(xx) / len(en) <= MAX_RATIO


def align_record(en, xx, stats):
  """Two Records of one md5 -> [(en, xx)] by the module's rules."""
  pairs = [(normalize(en.short), normalize(xx.short))]
  en_paras, xx_paras = paragraphs(en.long_lines), paragraphs(xx.long_lines)
  if len(en_paras) != len(xx_paras):
    stats["records_paragraphs_differ"] += 1
  else:
    for en_para, xx_para in zip(en_paras, xx_paras):
      en_units, xx_units = units(en_para), units(xx_para)
      if [k for k, _ in en_units] != [k for k, _ in xx_units]:
        stats["paragraphs_units_differ"] += 1
        continue
      pairs.extend((e, x) for (k, e), (_, x) in zip(en_units, xx_units)
                   if k != "pre")
  kept = [p for p in pairs if keep_pair(*p)]
  stats["pairs_filtered"] += len(pairs) - len(kept)
  return kept


def align_records(en_records, xx_records):
  """{md5: Record} twice -> (deduplicated pairs in input order, stats)."""
  stats = collections.Counter()
  pairs = {}
  for md5, xx in xx_records.items():
    if md5 not in en_records:
      stats["records_without_english"] += 1
      continue
    stats["records_aligned"] += 1
    for pair in align_record(en_records[md5], xx, stats):
      pairs.setdefault(pair, None)
  stats["pairs_unique"] = len(pairs)
  return list(pairs), dict(stats)


def prose_sentences(record, min_words=3, max_words=40):
  """The English prose sentences of one record (see english_sentences)."""
  for para in paragraphs(record.long_lines):
    for kind, text in units(para):
      if (kind == "sentence" and text[-1] in ".!?" and
          min_words <= len(text.split()) <= max_words):
        yield text
