#!/usr/bin/env bash
# One single-task learning curve: train MODEL/HPARAMS_SET alone on PROBLEM,
# decoding DECODE dev examples at every eval (the dev metric against CPU
# wall time), pinned to one core. Copies the eval log and the run config
# to docs/learning/runs/NAME/ when it finishes; plot with
# `python scripts/plot_learning.py`.
# Usage: learning_curve.sh NAME PROBLEM MODEL HPARAMS_SET STEPS [EVAL_EVERY]
#        [HPARAMS_OVERRIDES]
# Environment: WORK (default ./t2t_work, with WORK/data from the main job's
# datagen), CORE (default 0), DECODE (default 200).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
source "$ROOT/scripts/setup_env.sh"
NAME=$1 PROBLEM=$2 MODEL=$3 HP=$4 STEPS=$5 EVERY=${6:-500} OVR=${7:-}
WORK="${WORK:-$ROOT/t2t_work}"
OUT="$WORK/curves/$NAME"
DEST="$ROOT/docs/learning/runs/$NAME"
taskset -c "${CORE:-0}" t2tlite-trainer --problems="$PROBLEM" --model="$MODEL" \
  --hparams_set="$HP" --hparams="$OVR" --data_dir="$WORK/data" \
  --output_dir="$OUT" --train_steps="$STEPS" --eval_every="$EVERY" \
  --eval_steps=20 --eval_decode="${DECODE:-200}" --log_every=100 \
  --keep_checkpoints=20
mkdir -p "$DEST"
cp "$OUT/eval.jsonl" "$OUT/t2tlite_run.json" "$DEST/"
echo "$0 $*" > "$DEST/command.txt"
