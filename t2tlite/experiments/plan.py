"""The paper's experiments as plans: which runs, over which problems.

An experiment is a list of runs (problems, hparams overrides, mixing), each
repeated per seed by the runner. Problems are chosen by what they are (their
modalities and metrics, `problem_kind`), not by their names.
"""
from t2tlite.data import pipeline
from t2tlite import errors


class ExperimentError(errors.UserError, ValueError):
  """An experiment that cannot be made of the given problems or folders."""


# The mixing experiment's strategies besides inverse-size weights.
MIXINGS = ("round_robin", "proportional", "temperature:2")


# --- which problem is what ----------------------------------------------------
def problem_kind(problem):
  """What a Problem is, from its modalities and metrics (not its name):
  parsing (bracket F1), image_classification (image -> class label),
  caption (image -> text), speech (audio -> text), translation (text ->
  text scored by BLEU), else other."""
  inp, tgt = problem.input_modality, problem.target_modality
  metrics = tuple(problem.metrics)
  if "labelled_f1" in metrics:
    return "other" if getattr(problem, "reversed", False) else "parsing"
  if inp == "image":
    return {"class_label": "image_classification", "text": "caption"}.get(
        tgt, "other")
  if inp.startswith("audio") and tgt == "text":
    return "speech"
  if inp == tgt == "text" and "bleu" in metrics:
    return "translation"
  return "other"


def problem_kinds(problems):
  """Name -> kind of each registered problem."""
  from t2tlite import registry  # pylint: disable=import-outside-toplevel
  return {p: problem_kind(registry.problem(p)) for p in problems}


def train_sizes(problems, data_dir):
  """Name -> training examples (datagen's count; None when unknown)."""
  from t2tlite import registry  # pylint: disable=import-outside-toplevel
  return {p: pipeline.num_examples(registry.problem(p), data_dir, "train")
          for p in problems}


def inverse_size_weights(sizes):
  """Weights inversely proportional to each problem's training set size,
  summing to 1: the smallest problems are trained most often."""
  missing = [p for p, n in sizes.items() if not n]
  if missing:
    raise ExperimentError("inverse-size mixing needs each problem's "
                          "training set size; unknown for "
                          f"{', '.join(missing)} (run t2tlite-datagen)")
  inv = {p: 1.0 / n for p, n in sizes.items()}
  total = sum(inv.values())
  return {p: w / total for p, w in inv.items()}


def weights_spec(weights):
  """{'a': 0.25, 'b': 0.75} -> 'weights:a=0.25,b=0.75' (mixing.parse)."""
  return "weights:" + ",".join(f"{p}={w:.6g}" for p, w in weights.items())


# --- the plan -----------------------------------------------------------------
def _run(name, problems, hparams=None, mixing="round_robin"):
  return {"name": name, "problems": list(problems),
          "hparams": dict(hparams or {}), "mixing": mixing}


def experiment_runs(experiment, problems, kinds=None, sizes=None):
  """The runs of a named experiment over the given problems.

  kinds: name -> problem_kind (looked up in the registry when None).
  sizes: name -> training examples (the mixing experiment's inverse-size
  weights need them).
  """
  kinds = kinds or problem_kinds(problems)
  of = lambda *ks: [p for p in problems if kinds[p] in ks]
  if experiment == "joint_vs_single":
    if len(problems) < 2:
      raise ExperimentError("joint_vs_single needs at least two problems")
    return ([_run(f"single_{p}", [p]) for p in problems] +
            [_run("joint", problems)])
  if experiment == "parsing_transfer":
    parsing, images = of("parsing")[:1], of("image_classification")[:1]
    if not parsing or not images:
      raise ExperimentError("parsing_transfer needs a parsing problem and "
                            "an image-classification problem")
    runs = [_run("parsing_alone", parsing),
            _run("parsing_with_image", parsing + images)]
    rest = [q for q in problems if q not in parsing]
    if len(rest) > 1:
      runs.append(_run("parsing_with_all", parsing + rest))
    return runs
  if experiment == "ablations":
    chosen = of("translation", "image_classification", "speech")
    if not chosen:
      raise ExperimentError("ablations need a translation, image-"
                            "classification or speech problem")
    return [_run("baseline", chosen),
            _run("no_moe", chosen, {"use_moe": False}),
            _run("no_attention", chosen, {"decoder_attention": False}),
            _run("encoder_self_attention", chosen,
                 {"encoder_self_attention": True})]
  if experiment == "mixing":
    if len(problems) < 2:
      raise ExperimentError("mixing needs at least two problems")
    runs = [_run(f"mixing_{m.replace(':', '')}", problems, mixing=m)
            for m in MIXINGS]
    sizes = sizes or {}
    spec = weights_spec(inverse_size_weights({p: sizes.get(p)
                                              for p in problems}))
    return runs + [_run("mixing_inverse_size", problems, mixing=spec)]
  raise ExperimentError(f"unknown experiment '{experiment}' "
                        "(joint_vs_single, parsing_transfer, ablations, "
                        "mixing)")


def reference_run(experiment, problem):
  """The run each other run is compared with, for one problem."""
  return {"joint_vs_single": f"single_{problem}",
          "parsing_transfer": "parsing_alone",
          "ablations": "baseline",
          "mixing": "mixing_round_robin"}[experiment]


