"""The paper's experiments at small scale (t2tlite-experiment).

plan     which runs an experiment is made of, problems chosen by kind
runner   trains (or reuses the committed result of) each run x seed
stats    paired bootstrap over test examples, intervals over seeds, verdicts
report   report.md: budgets, per-seed and mean tables, verdicts, curves
"""
from t2tlite.experiments.plan import (  # noqa: F401
    ExperimentError, experiment_runs, inverse_size_weights, problem_kind,
    problem_kinds, reference_run, train_sizes, weights_spec)
from t2tlite.experiments.report import load_run  # noqa: F401
from t2tlite.experiments.runner import (  # noqa: F401
    budget, run_experiment, run_one, run_paths, steps_per_problem)
