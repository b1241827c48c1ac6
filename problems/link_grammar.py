"""SILVER constituency trees from the link-grammar parser (Debian).

No treebank of useful size is free to ship, so `parsing_english_silver`
parses real sentences with link-grammar and learns its trees: silver trees,
not gold ones, and every name and metric says so.

We use its Python bindings (python3-link-grammar), not the `link-parser`
CLI: they parse about 4x faster here (no CLI printing), and they give each
word's byte offsets in the sentence, so every leaf is restored exactly from
the original text (case, brackets, subscripts and unknown-word markers gone)
instead of guessed from the printed tree. The bindings are built for the
system Python; another interpreter of the same version loads the package
from its folder alone (`import_bindings`), without the rest of
/usr/lib/python3/dist-packages on its path.
"""
import atexit
import importlib.util
import multiprocessing
import os
import sys

from t2tlite.data import data_io
from t2tlite import system_deps
from t2tlite.data import trees as trees_lib

DEBIAN_PACKAGES = ("link-grammar", "link-grammar-dictionaries-en",
                   "python3-link-grammar")
BINDINGS_DIR = "/usr/lib/python3/dist-packages/linkgrammar"
WHY = "parsing_english_silver (link-grammar parser)"


def import_bindings(install=True):
  """The `linkgrammar` module, installing the Debian packages if needed."""
  if "linkgrammar" in sys.modules:
    return sys.modules["linkgrammar"]
  try:
    import linkgrammar  # An interpreter that sees dist-packages already.
    return linkgrammar
  except ImportError:
    pass
  if install:
    system_deps.ensure_debian_packages(DEBIAN_PACKAGES, WHY)
  init = os.path.join(BINDINGS_DIR, "__init__.py")
  if not os.path.exists(init):
    raise system_deps.MissingDependency(
        f"{WHY} needs {BINDINGS_DIR}: run `sudo apt-get install "
        f"{' '.join(DEBIAN_PACKAGES)}`")
  spec = importlib.util.spec_from_file_location(
      "linkgrammar", init, submodule_search_locations=[BINDINGS_DIR])
  module = importlib.util.module_from_spec(spec)
  sys.modules["linkgrammar"] = module
  try:
    spec.loader.exec_module(module)
  except ImportError as e:
    del sys.modules["linkgrammar"]
    raise system_deps.MissingDependency(
        f"{WHY}: the link-grammar bindings in {BINDINGS_DIR} do not load "
        f"in Python {sys.version_info.major}.{sys.version_info.minor} "
        f"(built for the system python3?): {e}") from None
  return module


def to_tree(constituents, sentence, spans):
  """link-grammar's constituent string -> a PTB-style SILVER Tree, or None.

  `spans` are the (byte start, byte end) of the linkage's words in
  `sentence` (UTF-8), walls excluded. Each printed leaf ("program.n",
  "PNG{!<ALL-UPPER>}", "{" for "(", a lowercased first word) is replaced
  by the sentence's own text at its word's offsets, bracket words escaped
  as -LRB- / -RRB-. None when the tree's leaves and the words disagree in
  number (link-grammar leaves words out of its trees around some
  conjunctions) or a word has no text.
  """
  try:
    tree = trees_lib.parse(constituents)
  except trees_lib.MalformedTree:
    return None
  raw = sentence.encode("utf-8")
  words = [raw[a:b].decode("utf-8", "replace").strip() for a, b in spans]
  if len(tree.leaves()) != len(words) or not all(words):
    return None
  it = iter(words)

  def restore(node):
    return trees_lib.Tree(node.label, [
        restore(c) if isinstance(c, trees_lib.Tree)
        else trees_lib.escape_word(next(it)) for c in node.children])

  return restore(tree)


def _quiet_handler(errinfo, data):
  """Passes on the parser's errors, not its Info/Warning chatter."""
  if errinfo.severity_label not in ("Info", "Debug", "Trace", "Warning"):
    sys.modules["linkgrammar"].LG_Error._default_handler(errinfo, data)


class SilverParser:
  """One link-grammar dictionary; parse() keeps complete parses only."""

  def __init__(self, max_parse_time=5, linkage_limit=100, install=True):
    lg = import_bindings(install)
    lg.LG_Error.set_handler(_quiet_handler)
    self._lg = lg
    self._dict = lg.Dictionary("en")
    # Freed before the interpreter tears the bindings down (else __del__
    # prints an error at exit).
    atexit.register(self.close)
    # No null links: a word the grammar cannot attach makes no tree.
    self._options = lg.ParseOptions(
        min_null_count=0, max_null_count=0, max_parse_time=max_parse_time,
        linkage_limit=linkage_limit, verbosity=0)

  def close(self):
    self._dict = None

  def constituents(self, sentence):
    """(constituent string, word byte spans) of the best parse, or None."""
    try:
      parsed = self._lg.Sentence(sentence, self._dict, self._options)
      linkage = next(iter(parsed.parse()), None)
    except self._lg.LG_TimerExhausted:
      # No parse within max_parse_time (about 1 sentence in 20,000 here):
      # like a sentence without a complete parse, it gets no tree.
      return None
    if linkage is None or parsed.null_count() > 0:
      return None
    n = linkage.num_of_words()
    spans = [(linkage.word_byte_start(i), linkage.word_byte_end(i))
             for i in range(1, n - 1)]  # Without LEFT-WALL and RIGHT-WALL.
    return linkage.constituent_tree(1), spans

  def parse(self, sentence):
    """A SILVER Tree for `sentence`, or None (no complete parse)."""
    found = self.constituents(sentence)
    return to_tree(found[0], sentence, found[1]) if found else None


_WORKER = {}


def _parse_in_worker(sentence):
  if "parser" not in _WORKER:
    _WORKER["parser"] = SilverParser(install=False)
  tree = _WORKER["parser"].parse(sentence)
  return sentence, tree.to_string() if tree is not None else None


def parse_many(sentences, processes=2, label="link-grammar"):
  """Yields (sentence, PTB string or None) in order, parsed in parallel.

  Prints progress. Workers are forked (on Linux), so they start without
  re-importing TensorFlow; they use only the parser's C library.
  """
  sentences = list(sentences)
  import_bindings()  # Installs in the parent, before any worker starts.
  progress = data_io.Progress(label, total=len(sentences))
  if processes <= 1:
    for s in sentences:
      progress.update()
      yield _parse_in_worker(s)
  else:
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ctx.Pool(processes) as pool:
      for out in pool.imap(_parse_in_worker, sentences, chunksize=32):
        progress.update()
        yield out
  progress.done()
