"""Named registries for problems, models, hparams sets and modalities.

One small generic `Registry`; each plugin family is an instance of it. A
duplicate name raises; an unknown name raises with the nearest names.
"""
import difflib
import re


class RegistryError(KeyError):
  """A name that is unknown or registered twice."""

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

  def register(self, name_or_obj=None):
    """Decorator: `@reg.register` or `@reg.register("explicit_name")`."""

    def decorate(obj, name=None):
      key = name or snake_case(obj.__name__)
      if key in self._items:
        raise RegistryError(f"{self.kind} '{key}' is already registered "
                            f"(by {self._items[key].__module__}).")
      self._items[key] = obj
      try:
        obj.registered_name = key
      except (AttributeError, TypeError):
        pass
      return obj

    if callable(name_or_obj) and not isinstance(name_or_obj, str):
      return decorate(name_or_obj)
    return lambda obj: decorate(obj, name_or_obj)

  def unregister(self, name):
    self._items.pop(name, None)

  def suggest(self, name, n=3):
    return difflib.get_close_matches(name, list(self._items), n=n, cutoff=0.5)

  def unknown(self, name):
    close = self.suggest(name)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return RegistryError(f"unknown {self.kind} '{name}'{hint} "
                         f"(--registry_help lists them all)")

  def get(self, name):
    if name not in self._items:
      raise self.unknown(name)
    return self._items[name]

  def __contains__(self, name):
    return name in self._items

  def names(self):
    return sorted(self._items)


problems = Registry("problem")
models = Registry("model")
hparams_sets = Registry("hparams set")
modalities = Registry("modality", "modalities")

register_model = models.register
register_hparams = hparams_sets.register
register_modality = modalities.register


def register_problem(name_or_cls=None):
  """Registers a Problem subclass; `NAME_rev` is then its reversed twin."""
  return problems.register(name_or_cls)


def problem(name):
  """Returns a Problem instance; the suffix `_rev` swaps inputs and targets."""
  reverse = False
  base = name
  if name not in problems and name.endswith("_rev"):
    base, reverse = name[:-len("_rev")], True
  if base not in problems:
    raise problems.unknown(name)
  instance = problems.get(base)()
  if reverse:
    instance.set_reversed()
  return instance


def model(name):
  return models.get(name)


def hparams(name):
  """Returns the HParams of the named set."""
  return hparams_sets.get(name)()


def help_text():
  """Everything registered, grouped by kind (the CLIs' --registry_help)."""
  lines = []
  for reg in (problems, models, hparams_sets, modalities):
    lines.append(f"{reg.plural}:")
    for key in reg.names():
      lines.append(f"  {key}")
  lines.append("(each problem P also answers as P_rev, inputs and targets "
               "swapped, where its modalities allow it)")
  return "\n".join(lines)
