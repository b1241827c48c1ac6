"""Every figure in the README's measurement sections names the file it comes from.

Issue 33 §3: never leave a figure in a README or doc that no committed script
and log reproduces. This test holds the README's measurement sections to it.

The rule, as checked here:

* Sections. The README's level-2 sections whose heading starts with one of
  MEASUREMENT_SECTIONS ("Measured on this machine", "Performance"), each with
  all of its subsections, up to the next level-2 heading. Every name in
  MEASUREMENT_SECTIONS must be found, so renaming a section cannot switch the
  check off.
* Blocks. Those sections are cut into blocks: a paragraph (lines up to a
  blank line), a list item (a line starting with "- ", "* " or "1. " and the
  lines that continue it), and a table together with the paragraph directly
  above it (its caption, which names the columns' sources). Headings and code
  (fenced, or indented by 4 spaces: commands) are not blocks.
* Figures. A block holds a measured figure when its prose (inline code and
  link targets taken out, so that command-line flags do not count) has a
  decimal number (15.40, 0.913, 47.3%) or a number with a unit of time, size,
  rate or ratio (844 s, 22 min, 3.39 GiB, 725 tokens/s, 45%, 1.23×, "517
  passed"). Counts and settings without a unit (3,800 steps, beam 4, first
  300 examples, 2 cores, commit cc984c1) are not figures.
* Requirement. A block that holds a figure names at least one committed file
  (a path under docs/ or benchmarks/results/, in backticks, in a link or
  plain, e.g. `benchmarks/results/main_job.json`) that git tracks; and every
  path under docs/ or benchmarks/results/ that any block names is a tracked
  file or a folder of tracked files. So a bullet that quotes a number with no
  file fails, and so does one that names a file that was never committed or
  has since moved.

What it does not check: that the named file holds the figure (the numbers
are rounded, summed or converted in the prose). The file is where a reader
goes to check it.
"""
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")

MEASUREMENT_SECTIONS = ("Measured on this machine", "Performance")

_UNIT = (r"(?:%|×(?!\s?\d)|x\b(?!\s?\d)|ms\b|s\b|min\b|minutes?\b|h\b|hours?\b|seconds?\b"
         r"|core-seconds\b|GiB\b|MiB\b|MB\b|GB\b|GFLOP/s|tokens/s|steps/s"
         r"|sentences/s|batches/s|passed\b)")
_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
FIGURE = re.compile(
    rf"(?<![\w.,])(?:\d+\.\d+(?!\w|\.\w)|{_NUMBER}\s?{_UNIT})")
PATH = re.compile(r"(?<![\w./-])((?:docs|benchmarks/results)/[\w.+/-]*)")
_INLINE_CODE = re.compile(r"`[^`]*`")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_LIST_ITEM = re.compile(r"^(?:[-*]|\d+\.) ")


def sections(text, names=MEASUREMENT_SECTIONS):
  """{name: the lines of its level-2 section, subsections included}."""
  found, current = {}, None
  for line in text.splitlines():
    if line.startswith("## "):
      title = line[3:].strip()
      current = next((n for n in names if title.startswith(n)), None)
      if current is not None:
        found[current] = []
      continue
    if current is not None:
      found[current].append(line)
  return found


def blocks(lines):
  """The section's paragraphs, list items and captioned tables, as strings."""
  out, chunk, fenced = [], [], False

  def flush():
    if chunk:
      out.extend(_split_chunk(chunk))
      chunk.clear()

  for line in lines:
    if line.lstrip().startswith("```"):
      flush()
      fenced = not fenced
      continue
    if fenced:
      continue
    if not line.strip() or line.startswith("#"):
      flush()
      continue
    if line.startswith("    ") and not chunk:
      continue  # an indented code block (a command)
    chunk.append(line)
  flush()
  # A table belongs with the paragraph directly above it (its caption).
  merged = []
  for kind, text in out:
    if kind == "table" and merged and merged[-1][0] == "paragraph":
      merged[-1] = ("table", merged[-1][1] + "\n" + text)
    else:
      merged.append((kind, text))
  return [text for _, text in merged]


def _split_chunk(chunk):
  """(kind, text) pieces of lines that have no blank line between them."""
  pieces = []  # [kind, lines]
  for line in chunk:
    if _LIST_ITEM.match(line) or not pieces:
      kind = "item" if _LIST_ITEM.match(line) else "paragraph"
      kind = "table" if line.startswith("|") else kind
      pieces.append([kind, [line]])
    elif line.startswith("|"):
      if pieces[-1][0] == "table":
        pieces[-1][1].append(line)
      else:
        pieces.append(["table", [line]])
    elif pieces[-1][0] == "table":
      pieces.append(["paragraph", [line]])
    else:  # prose: the paragraph or list item goes on
      pieces[-1][1].append(line)
  return [(kind, "\n".join(lines)) for kind, lines in pieces]


def figures(block):
  prose = _LINK_TARGET.sub("]", _INLINE_CODE.sub(" ", block))
  return FIGURE.findall(prose)


def paths(block):
  return [p.rstrip(".,;:") for p in PATH.findall(block)]


def tracked_files():
  try:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                         capture_output=True).stdout.decode()
    files = {f for f in out.split("\0") if f}
  except (OSError, subprocess.CalledProcessError):
    files = set()
  if not files:  # not a git checkout: the files on disk stand in
    for base, _, names in os.walk(ROOT):
      for name in names:
        files.add(os.path.relpath(os.path.join(base, name), ROOT))
  return files


def violations(text, files):
  """One line per block that breaks the rule; empty when the text keeps it."""
  folders = {os.path.dirname(f) for f in files}
  folders |= {d for f in list(folders) for d in _parents(f)}
  problems, found = [], sections(text)
  for name in MEASUREMENT_SECTIONS:
    if name not in found:
      problems.append(f"no '## {name}' section in the README")
  for name, lines in found.items():
    for block in blocks(lines):
      named = paths(block)
      for p in named:
        if p.rstrip("/") not in files and p.rstrip("/") not in folders:
          problems.append(f"[{name}] names {p}, which git does not track: "
                          f"{_head(block)}")
      figs = figures(block)
      if figs and not any(p in files for p in named):
        problems.append(f"[{name}] figures {figs[:4]} with no committed "
                        f"file named: {_head(block)}")
  return problems


def _parents(path):
  while path:
    path = os.path.dirname(path)
    if path:
      yield path


def _head(block):
  return " ".join(block.split())[:100] + "..."


# The rule on small examples, so that it is known to bite.
_FILES = {"benchmarks/results/main_job.json", "docs/learning/README.md"}


def _section(body):
  return ("## Measured on this machine\n\n" + body +
          "\n\n## Performance\n\nNo figures here.\n\n## Next\n\n1.5 s\n")


@pytest.mark.parametrize("body", [
    "- datagen 228 s, training 1,006 s (`benchmarks/results/main_job.json`)",
    "The main job took 22 min 41 s\n(benchmarks/results/main_job.json).",
    "Caption of the table (docs/learning/README.md):\n\n| a | b |\n| --- | --- |"
    "\n| x | 0.913 |",
    "Settings only: 3,800 steps, beam 4, first 300 examples, 2 cores, cc984c1,"
    " `--hparams=learning_rate=0.5`.",
    "    bash scripts/main_job.sh --steps=3.5   # a command, not a figure",
])
def test_rule_accepts(body):
  assert violations(_section(body), _FILES) == []


@pytest.mark.parametrize("body", [
    "- datagen 228 s, training 1,006 s",
    "- the suite: 517 passed in 1,457 s",
    "Fashion-MNIST reached 0.904.",
    "Caption with no file:\n\n| a | b |\n| --- | --- |\n| x | 0.913 |",
    "- datagen 228 s (benchmarks/results/main_job_lost.json)",
    "- datagen 228 s, see docs/learning",  # a folder is not a source
    "- first (`benchmarks/results/main_job.json`)\n- then 47.3% MFU",
])
def test_rule_refuses(body):
  assert violations(_section(body), _FILES), body


def test_rule_needs_the_sections():
  assert violations("## Other\n\n1.5 s\n", _FILES)


def test_readme_figures_name_their_files():
  with open(README, encoding="utf-8") as f:
    text = f.read()
  problems = violations(text, tracked_files())
  assert not problems, ("README figures without a committed source "
                        "(tests/test_readme_figures.py says the rule):\n"
                        + "\n".join(problems))
