"""What the six CLIs share: flag parsing with absl's --help/-h/--helpshort/
--helpfull, --usr_dir, --registry_help, timestamped log lines, metric
formatting, and turning every expected error into one line on stderr and
exit status 2."""
import logging
import math
import sys
import textwrap
import time

from absl import flags


EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
# Log lines: "2026-12-02 10:01:02 I step 100: ..." (I, W, E: the level).
LOG_FORMAT = "%(asctime)s %(levelname).1s %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


class _HelpRequested(Exception):
  """Raised while parsing, as absl's own help flags exit while parsing: the
  flags after it (even unknown ones) do not matter."""

  def __init__(self, full):
    super().__init__("help")
    self.full = full


class _HelpFlag(flags.BooleanFlag):
  """--help, --helpshort, --helpfull for a FlagValues of our own (absl's
  app.run defines them on the global FLAGS only, which the CLIs don't use)."""

  def __init__(self, name, help_text, short_name=None, full=False):
    super().__init__(name, False, help_text, short_name=short_name)
    self.full = full

  def parse(self, argument):
    super().parse(argument)
    if self.value:
      raise _HelpRequested(self.full)


def new_flags():
  """A FlagValues of its own per CLI, with the flags every CLI has."""
  fv = flags.FlagValues()
  flags.DEFINE_flag(_HelpFlag("help", "Show this help (every flag of this "
                              "command) and exit.", short_name="h"),
                    flag_values=fv)
  flags.DEFINE_flag(_HelpFlag("helpshort", "The same as --help: every flag "
                              "of this command, then exit.",
                              short_name="?"), flag_values=fv)
  flags.DEFINE_flag(_HelpFlag("helpfull", "Show this help plus absl's own "
                              "flags (--flagfile, --undefok) and exit.",
                              full=True), flag_values=fv)
  flags.DEFINE_string("usr_dir", None, "Directory of the user's own "
                      "problems, models and hparams sets (a Python package), "
                      "imported before anything is looked up.",
                      flag_values=fv)
  flags.DEFINE_alias("t2t_usr_dir", "usr_dir", flag_values=fv)
  flags.DEFINE_boolean("registry_help", False, "List every registered "
                       "problem (with its aliases), model, hparams set and "
                       "modality, and exit.", flag_values=fv)
  flags.DEFINE_boolean("verbose", False, "Also log TensorFlow's and absl's "
                       "own messages (hidden by default).", flag_values=fv)
  return fv


# --- help ---------------------------------------------------------------------
def defined_flags(fv):
  """Each flag of fv once (short names and aliases are not repeated)."""
  seen, out = set(), []
  for name in fv:
    flag = fv[name]
    if id(flag) not in seen:
      seen.add(id(flag))
      out.append((flag.name, flag))
  return out


def _render_flag(flag, width=80):
  """One flag as absl's help shows it."""
  head = f"-{flag.short_name}," if flag.short_name else ""
  head += f"--[no]{flag.name}" if flag.boolean else f"--{flag.name}"
  lines = textwrap.wrap(f"{head}: {flag.help or ''}", width,
                        initial_indent="  ", subsequent_indent="    ",
                        break_on_hyphens=False)
  for extra in (flag.default_as_str and f"(default: {flag.default_as_str})",
                flag.parser.syntactic_help and
                f"({flag.parser.syntactic_help})"):
    if extra:
      lines += textwrap.wrap(extra, width, initial_indent="    ",
                             subsequent_indent="    ",
                             break_on_hyphens=False)
  return "\n".join(lines)


def help_text(prog, fv, doc="", full=False):
  """--help: usage, what the command does, its flags, then the flags every
  CLI shares; --helpfull adds absl's --flagfile and --undefok."""
  own, shared = [], []
  for name, flag in defined_flags(fv):
    defined_in = fv.find_module_defining_flag(name) or ""
    (shared if defined_in.endswith("bin.cli") else own).append(flag)
  out = [f"usage: {prog} [flags]"]
  if doc:
    out += ["", doc.strip()]
  out += ["", f"{prog} flags:"] + [_render_flag(f) for f in own]
  out += ["", "flags of every t2tlite CLI:"] + [_render_flag(f)
                                                for f in shared]
  if full:
    # An empty FlagValues renders just absl's special flags.
    out += ["", "absl.flags:", flags.FlagValues().get_help(prefix="  ")]
  else:
    out += ["", "Try --helpfull to get a list of all flags."]
  return "\n".join(out) + "\n"


# --- logging --------------------------------------------------------------------
class _StderrHandler(logging.StreamHandler):
  """Writes to whatever sys.stderr is at the time (pytest swaps it)."""

  @property
  def stream(self):
    return sys.stderr

  @stream.setter
  def stream(self, _):
    pass


def setup_logging():
  """Our own handler on our own logger: libraries imported later (absl, TF)
  reset the root logger's level, which silenced progress and resumes."""
  log = logging.getLogger("t2tlite")
  handler = next((h for h in log.handlers if isinstance(h, _StderrHandler)),
                 None)
  if handler is None:
    handler = _StderrHandler()
    log.addHandler(handler)
  handler.setFormatter(logging.Formatter(LOG_FORMAT, LOG_DATE_FORMAT))
  log.propagate = False
  log.setLevel(logging.INFO)
  return log


class Progress:
  """Logs "what: done/total (pct), rate, ETA" at most every `every` seconds
  (0: at every update; negative: never), and once at the end if it logged
  before."""

  def __init__(self, what, total, every=10.0, unit="lines", log=None):
    self.what, self.total, self.every, self.unit = what, total, every, unit
    self.log = log or logging.getLogger("t2tlite")
    self.done = 0
    self.start = self._last = time.time()
    self.logged = False

  def update(self, n=1, done=None):
    self.done = self.done + n if done is None else done
    now = time.time()
    if self.every >= 0 and now - self._last >= self.every and (
        self.done < (self.total or float("inf"))):
      self._report(now)

  def finish(self):
    if self.logged:
      self._report(time.time())

  def _report(self, now):
    self._last, self.logged = now, True
    rate = self.done / max(now - self.start, 1e-9)
    if self.total:
      left = (self.total - self.done) / rate if rate > 0 else None
      # pylint: disable-next=import-outside-toplevel
      from t2tlite.train.summaries import format_duration
      self.log.info("%s: %d/%d %s (%d%%), %.1f %s/s, ETA %s", self.what,
                    self.done, self.total, self.unit,
                    100 * self.done // max(self.total, 1), rate, self.unit,
                    format_duration(left) if self.done < self.total
                    else "0s")
    else:
      self.log.info("%s: %d %s, %.1f %s/s", self.what, self.done, self.unit,
                    rate, self.unit)


# --- metrics --------------------------------------------------------------------
def format_number(value):
  """0.6566666666666666 -> '0.6567', 23.41 -> '23.41', 100.0 -> '100'."""
  if isinstance(value, bool) or not isinstance(value, float):
    return str(value)
  if not math.isfinite(value):
    return str(value)
  text = f"{value:.4f}".rstrip("0").rstrip(".")
  return "0" if text == "-0" else text


def format_metrics(scores, sep=" ", joiner=", "):
  """{'accuracy': 0.65666} -> 'accuracy 0.6567' (sep '=' for k=v)."""
  return joiner.join(f"{k}{sep}{format_number(v)}" for k, v in scores.items())


def bleu_signature(scores, hypotheses, references):
  """sacreBLEU's signature of the 'bleu' in scores, if sacreBLEU with its
  default settings gives that score (the problems' own BLEU); else None."""
  if "bleu" not in scores or not hypotheses:
    return None
  try:
    import sacrebleu  # pylint: disable=import-outside-toplevel
    bleu = sacrebleu.BLEU()
    score = bleu.corpus_score(list(hypotheses), [list(references)]).score
  except Exception:  # pylint: disable=broad-except
    return None
  if abs(round(score, 2) - float(scores["bleu"])) > 0.006:
    return None  # computed some other way: no signature to vouch for it
  return str(bleu.get_signature())


# --- problems of a trained run ----------------------------------------------------
def run_problem_name(run_names, name):
  """The run's name for the problem `name`: itself if the run has it, else
  the run's problem that is the same problem under another name (an alias,
  e.g. translate_ende for a run trained on translate_ende_ddtp)."""
  from t2tlite import registry  # pylint: disable=import-outside-toplevel
  if not name or name in run_names:
    return name

  def canonical(n):
    try:
      return registry.canonical_problem_name(n)
    except registry.RegistryError:
      return n

  same = [n for n in run_names if canonical(n) == canonical(name)]
  return same[0] if len(same) == 1 else name


def output_dir_problem(output_dir, name):
  """run_problem_name for the run in output_dir (name as is without one)."""
  from t2tlite.train import run_config  # pylint: disable=import-outside-toplevel
  cfg = run_config.read(output_dir) if (output_dir and name) else None
  return run_problem_name(cfg["problems"], name) if cfg else name


# --- running ----------------------------------------------------------------------
def expected_errors():
  """Errors that mean bad input: one line, exit 2 (every library error
  class derives from errors.UserError or errors.RunFailed)."""
  from t2tlite import errors  # pylint: disable=import-outside-toplevel
  return (errors.UserError, FileNotFoundError, IsADirectoryError,
          PermissionError, UnicodeDecodeError)


def fail(prog, message, status=EXIT_BAD_INPUT):
  line = " ".join(str(message).split())
  print(f"{prog}: error: {line}", file=sys.stderr)
  sys.exit(status)


def _doc_of(main):
  module = sys.modules.get(getattr(main, "__module__", ""), None)
  return getattr(module, "__doc__", "") or ""


def run(prog, fv, main, argv=None):
  """Parses argv into fv, then calls main(fv); maps errors to exit codes."""
  argv = list(sys.argv if argv is None else argv)
  fv.unparse_flags()  # a second run in one process starts from defaults
  try:
    fv(argv)
  except _HelpRequested as e:
    sys.stdout.write(help_text(prog, fv, _doc_of(main), full=e.full))
    sys.stdout.flush()
    return 0
  except flags.Error as e:
    fail(prog, f"{e} (--help lists the flags)")
  setup_logging()
  if not fv.verbose:
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("absl").setLevel(logging.WARNING)
    # Its "N out of the last N calls triggered retracing" counts the
    # per-problem train steps together; each of those traces only once.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
  import t2tlite  # noqa: F401  (registers the built-ins)
  if not (fv.verbose or ("distribution" in fv and
                         fv["distribution"].value == "multi_worker")):
    t2tlite.quiet_start_devices()
  from t2tlite import errors as errors_lib
  from t2tlite import registry, usr_dir
  errors = expected_errors()
  try:
    usr_dir.import_usr_dir(fv.usr_dir)
    if fv.registry_help:
      print(registry.help_text())
      return 0
    return main(fv) or 0
  except errors as e:
    fail(prog, e)
  except errors_lib.RunFailed as e:
    fail(prog, e, EXIT_FAILED)
  except KeyboardInterrupt:
    fail(prog, "interrupted", 130)
  except OSError as e:
    if e.errno == 28:  # ENOSPC
      fail(prog, f"disk full: {e}; the last complete checkpoint is kept",
           EXIT_FAILED)
    raise
  except Exception as e:  # pylint: disable=broad-except
    # TensorFlow reports a full disk (checkpoints, summaries) as an OpError.
    if "No space left on device" in str(e):
      fail(prog, "disk full while writing a checkpoint or summary: "
           f"{str(e).splitlines()[0][:200]}; the last complete checkpoint "
           "is kept", EXIT_FAILED)
    raise


def require(prog, fv, *names):
  for n in names:
    if fv[n].value in (None, ""):
      fail(prog, f"--{n} is required")
