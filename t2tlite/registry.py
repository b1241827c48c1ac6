"""Named registries for problems, models, hparams sets and modalities.

One small generic `Registry`; each plugin family is an instance of it. A
duplicate name raises; an unknown name raises with the nearest names. A name
can also be an alias of another (`register_problem_alias("translate_ende",
"translate_ende_ddtp")`): it resolves at lookup, so the target may be
registered after its alias.

Plugins are found, not imported by the library: the packages installed
under the "t2tlite.plugins" entry-point group (t2tlite's own problems,
models and hparams sets, declared in its setup.py, and any other installed
package's) are imported by `load_plugins`, which the first registration or
lookup calls. `import t2tlite` itself imports none of them.
"""
import difflib
import importlib
import importlib.metadata
import re

from t2tlite import errors


class RegistryError(errors.UserError, KeyError):
  """A name that is unknown or registered twice."""


PLUGIN_GROUP = "t2tlite.plugins"
# t2tlite's own plugins load first, in this order, then other packages'.
BUILTIN_PLUGINS = ("problems", "models", "hparams")
_plugins = {"state": "unloaded"}


def load_plugins():
  """Imports every package of the "t2tlite.plugins" entry-point group,
  once, t2tlite's own first; every lookup (and a new task token) calls it.
  A name registered twice fails whichever registration comes second."""
  if _plugins["state"] != "unloaded":
    return
  _plugins["state"] = "loading"
  try:
    found = list(importlib.metadata.entry_points(group=PLUGIN_GROUP))
    own = {ep.name: ep for ep in found if ep.value.startswith("t2tlite.")}
    if set(BUILTIN_PLUGINS) - set(own):
      raise RegistryError(
          "t2tlite's built-in problems, models and hparams sets are not "
          f"declared (no {PLUGIN_GROUP} entry points): install t2tlite "
          "with pip (pip install -e . in its repository, or "
          "scripts/setup_env.sh)")
    others = sorted((ep for ep in found if ep not in own.values()),
                    key=lambda e: (e.value, e.name))
    for ep in [own[n] for n in BUILTIN_PLUGINS] + others:
      importlib.import_module(ep.value)
  except BaseException:
    _plugins["state"] = "unloaded"
    raise
  _plugins["state"] = "loaded"

  def __str__(self):  # KeyError quotes its message; we want it plain.
    return str(self.args[0]) if self.args else ""


def snake_case(name):
  """`TranslateEndeDdtp` -> `translate_ende_ddtp`."""
  s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
  s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
  return s.lower()


class Registry:
  """A mapping from names to objects, filled by a decorator."""

  def __init__(self, kind, plural=None):
    self.kind = kind
    self.plural = plural or kind + "s"
    self._items = {}
    self._aliases = {}  # alias -> the name it stands for

  def register(self, name_or_obj=None):
    """Decorator: `@reg.register` or `@reg.register("explicit_name")`."""

    def decorate(obj, name=None):
      key = name or snake_case(obj.__name__)
      if key in self._items:
        raise RegistryError(f"{self.kind} '{key}' is already registered "
                            f"(by {self._items[key].__module__}).")
      if key in self._aliases:
        raise RegistryError(f"{self.kind} '{key}' is already registered as "
                            f"an alias of '{self._aliases[key]}'.")
      self._items[key] = obj
      try:
        obj._registered_name = key
      except (AttributeError, TypeError):
        pass
      return obj

    if callable(name_or_obj) and not isinstance(name_or_obj, str):
      return decorate(name_or_obj)
    return lambda obj: decorate(obj, name_or_obj)

  def register_alias(self, alias, target):
    """Makes `alias` another name of `target` (a registered name or alias).

    Resolved at lookup: the target may be registered later, and a missing
    target is reported when the alias is used.
    """
    if not alias or not target or alias == target:
      raise RegistryError(f"{self.kind} alias {alias!r} -> {target!r}: "
                          "two different, non-empty names are needed")
    if alias in self._items:
      raise RegistryError(f"{self.kind} '{alias}' is already registered "
                          f"(by {self._items[alias].__module__}).")
    if alias in self._aliases:
      raise RegistryError(f"{self.kind} '{alias}' is already registered as "
                          f"an alias of '{self._aliases[alias]}'.")
    self._aliases[alias] = target

  def unregister(self, name):
    self._items.pop(name, None)
    self._aliases.pop(name, None)

  def resolve(self, name):
    """The registered name that `name` stands for: itself, unless it is an
    alias (followed through aliases of aliases)."""
    load_plugins()
    seen = [name]
    while name in self._aliases:
      name = self._aliases[name]
      if name in seen:
        raise RegistryError(f"{self.kind} aliases form a cycle: "
                            f"{' -> '.join(seen + [name])}")
      seen.append(name)
    return name

  def is_alias(self, name):
    load_plugins()
    return name in self._aliases

  def aliases(self):
    """{alias: the name it stands for}, as registered."""
    load_plugins()
    return dict(sorted(self._aliases.items()))

  def suggest(self, name, n=3):
    load_plugins()
    return difflib.get_close_matches(
        name, list(self._items) + list(self._aliases), n=n, cutoff=0.5)

  def unknown(self, name):
    close = self.suggest(name)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return RegistryError(f"unknown {self.kind} '{name}'{hint} "
                         f"(--registry_help lists them all)")

  def get(self, name):
    key = self.resolve(name)
    if key not in self._items:
      if key != name:
        raise RegistryError(f"{self.kind} '{name}' is an alias of '{key}', "
                            f"which is not registered")
      raise self.unknown(name)
    return self._items[key]

  def __contains__(self, name):
    try:
      return self.resolve(name) in self._items
    except RegistryError:
      return False

  def names(self):
    """Registered names (aliases not included: see aliases())."""
    load_plugins()
    return sorted(self._items)


class TaskTokens:
  """Output spaces, the paper's To-English, To-German, To-Parse-Tree: the
  first decoder symbol of a problem's targets, by name -> id.

  The built-ins' ids are stable (a checkpoint's task-token table is indexed
  by them). A problem may only name a registered token, so that a misspelt
  one is an error rather than a new, untrained output space; a new output
  space is `register_task_token("to_sentiment")`.
  """

  MAX = 64

  def __init__(self, names):
    self._ids = {name: i for i, name in enumerate(names)}

  def register(self, name):
    """Adds an output space (idempotent); returns its id."""
    load_plugins()
    if not name or not isinstance(name, str):
      raise RegistryError(f"a task token is a non-empty name, not {name!r}")
    if name not in self._ids:
      if len(self._ids) >= self.MAX:
        raise RegistryError(f"more than {self.MAX} task tokens")
      self._ids[name] = len(self._ids)
    return self._ids[name]

  def id(self, name):
    """The id of a registered task token; an unknown name is an error."""
    load_plugins()
    if name not in self._ids:
      close = difflib.get_close_matches(name, list(self._ids), n=3,
                                        cutoff=0.5)
      hint = f"; did you mean {', '.join(close)}?" if close else ""
      raise RegistryError(
          f"unknown task token '{name}'{hint} (a new output space is "
          f"registry.register_task_token({name!r}))")
    return self._ids[name]

  def __contains__(self, name):
    load_plugins()
    return name in self._ids

  def names(self):
    load_plugins()
    return sorted(self._ids, key=self._ids.get)


task_tokens = TaskTokens([
    "generic", "to_en", "to_de", "to_fr", "to_parse_tree", "to_image_label",
    "to_caption_en", "to_caption_de", "to_caption_fr", "to_transcript_en",
    "to_imagenet_label", "to_fashion_label", "to_digit_label",
    "to_text", "to_label"])
register_task_token = task_tokens.register

problems = Registry("problem")
models = Registry("model")
hparams_sets = Registry("hparams set")
modalities = Registry("modality", "modalities")
vocabularies = Registry("vocabulary", "vocabularies")
codecs = Registry("codec")
metrics = Registry("metric")

register_model = models.register
register_hparams = hparams_sets.register
register_modality = modalities.register
register_codec = codecs.register


def register_problem(name_or_cls=None):
  """Registers a Problem subclass; `NAME_rev` is then its reversed twin."""
  return problems.register(name_or_cls)


def register_problem_alias(alias, target):
  """Registers `alias` as another name of the problem `target`.

  The alias shares the target's data files, vocabulary and metrics (its
  `data_name` is the target's), and `alias_rev` is the reversed twin; its
  `name` is the alias, so a run trained on the alias records, and decodes
  with, the alias. `target` is a registered problem (or alias), not a
  `_rev` name.
  """
  problems.register_alias(alias, target)


register_model_alias = models.register_alias
register_hparams_alias = hparams_sets.register_alias

_ALIAS_CLASSES = {}


def _problem_alias_class(alias, cls):
  """A subclass of the target's class whose `name` is the alias (its
  `data_name`, from the inherited _registered_name, stays the target's)."""
  key = (alias, cls)
  if key not in _ALIAS_CLASSES:
    _ALIAS_CLASSES[key] = type(cls.__name__, (cls,), {
        "__module__": cls.__module__,
        "__doc__": (f"'{alias}': another name of problem "
                    f"'{cls._registered_name}'.\n\n{cls.__doc__ or ''}"),
        "alias_name": alias,
        "name": property(
            lambda self: alias + ("_rev" if self._reversed else "")),
    })
  return _ALIAS_CLASSES[key]


def _split_rev(name):
  """(base name, reversed?) of a problem name."""
  if name not in problems and name.endswith("_rev"):
    return name[:-len("_rev")], True
  return name, False


def problem(name):
  """Returns a Problem instance; the suffix `_rev` swaps inputs and targets.

  An alias gives an instance named by the alias that reads its target's
  files.
  """
  base, reverse = _split_rev(name)
  if base not in problems:
    if problems.is_alias(base):
      problems.get(base)  # says which target is missing
    raise problems.unknown(name)
  key = problems.resolve(base)
  cls = problems.get(key)
  if key != base:
    cls = _problem_alias_class(base, cls)
  instance = cls()
  if reverse:
    if instance.reverse_task_token is None:
      raise RegistryError(f"problem '{base}' cannot be reversed (its inputs "
                          "and targets are of different kinds)")
    instance._reversed = True
  return instance


def canonical_problem_name(name):
  """The registered problem `name` stands for, aliases resolved and `_rev`
  kept: canonical_problem_name("translate_ende_rev") is
  "translate_ende_ddtp_rev". Two names with the same canonical name are one
  problem (same data, same task)."""
  base, reverse = _split_rev(name)
  if base not in problems:
    if problems.is_alias(base):
      problems.get(base)
    raise problems.unknown(name)
  return problems.resolve(base) + ("_rev" if reverse else "")


def model(name):
  return models.get(name)


def hparams(name):
  """Returns the HParams of the named set."""
  return hparams_sets.get(name)()


def help_text():
  """Everything registered, grouped by kind (the CLIs' --registry_help)."""
  lines = []
  for reg in (problems, models, hparams_sets, modalities, codecs,
              metrics, vocabularies):
    lines.append(f"{reg.plural}:")
    aliases = reg.aliases()
    for key in sorted(reg.names() + list(aliases)):
      if key in aliases:
        missing = "" if key in reg else ", which is not registered"
        lines.append(f"  {key}  (alias of {aliases[key]}{missing})")
      else:
        lines.append(f"  {key}")
  lines.append("task tokens:")
  lines.extend(f"  {name}" for name in task_tokens.names())
  lines.append("(each problem P also answers as P_rev, inputs and targets "
               "swapped, where its modalities allow it; an alias A of P "
               "shares P's data files and vocabulary, and A_rev is P_rev "
               "under A's name)")
  return "\n".join(lines)
