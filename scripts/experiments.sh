#!/usr/bin/env bash
# The paper's four experiments (issue 18) at a budget where the single-task
# models work, with 3 seeds, run piece by piece over days and machines:
#
#   bash scripts/experiments.sh EXPERIMENT [RUNS] [SEEDS]
#
# EXPERIMENT  joint_vs_single | parsing_transfer | ablations | mixing
# RUNS        the runs this call may train, joined by ',' (for example
#             single_image_fashion_mnist,joint), 'all' (default) or 'none'
#             (only rewrite the report from the committed runs)
# SEEDS       default 1,2,3
#
# Each finished run x seed is written to docs/experiments/EXPERIMENT/runs/
# the moment it finishes: commit it. Any later call, on any machine, reuses
# the committed runs and trains only what is missing (resuming its
# checkpoints under WORK when they are there). report.md is rewritten from
# whatever is committed, and lists what is not run yet.
#
# Budget: 2,000 steps per problem per run (a joint run of n problems trains
# 2,000 n steps), the quality run's recipe (multimodel_chars, dropout 0.2).
# Alone at about that budget the MultiModel clearly works on each task
# (docs/learning, docs/quality_run: en->de dev BLEU about 16, Fashion-MNIST
# 0.83, parsing labelled F1 about 34, speech-as-bytes dev CER about 55,
# captions BLEU 6.4 against the constant caption's 0.84). About 0.5 s a
# step on 2 cores: joint_vs_single is 32,000 steps a seed (about 4.5 hours),
# parsing_transfer 18,000, ablations 24,000, mixing 48,000.
# Environment: WORK (default ./t2t_work), STEPS (per problem, 2000).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
source "$ROOT/scripts/setup_env.sh"
bash "$ROOT/scripts/debian_deps.sh" main
EXP="${1:?usage: $0 EXPERIMENT [RUNS] [SEEDS]}"
RUNS="${2:-all}"
SEEDS="${3:-1,2,3}"
WORK="${WORK:-$ROOT/t2t_work}"
STEPS="${STEPS:-2000}"
case "$EXP" in
  joint_vs_single)
    PROBLEMS="translate_ende_ddtp-translate_ende_ddtp_rev-translate_enfr_ddtp"
    PROBLEMS="$PROBLEMS-translate_enfr_ddtp_rev-image_fashion_mnist"
    PROBLEMS="$PROBLEMS-speech_tts_en_chars-parsing_english_silver"
    PROBLEMS="$PROBLEMS-image_caption_tuxpaint" ;;
  parsing_transfer|mixing)
    PROBLEMS="parsing_english_silver-image_fashion_mnist-translate_ende_ddtp"
    PROBLEMS="$PROBLEMS-translate_enfr_ddtp-speech_tts_en_chars"
    PROBLEMS="$PROBLEMS-image_caption_tuxpaint" ;;
  ablations)
    PROBLEMS="translate_ende_ddtp-image_fashion_mnist-speech_tts_en_chars" ;;
  *)
    echo "usage: $0 joint_vs_single|parsing_transfer|ablations|mixing" \
      "[RUNS] [SEEDS]" >&2
    exit 2 ;;
esac
t2tlite-datagen --problem="$(echo "$PROBLEMS" | tr - "\n" | sed "s/_rev$//" | sort -u | paste -sd,)" \
  --data_dir="$WORK/data" --tmp_dir="$WORK/tmp"
EXTRA=()
if [[ "$EXP" == mixing ]]; then
  EXTRA+=(--single_dir="$ROOT/docs/experiments/joint_vs_single")
fi
t2tlite-experiment --experiment="$EXP" --problems="$PROBLEMS" \
  --model=multimodel --hparams_set=multimodel_chars --hparams=dropout=0.2 \
  --data_dir="$WORK/data" --report_dir="$ROOT/docs/experiments/$EXP" \
  --work_dir="$WORK/experiments/$EXP" --steps_per_problem="$STEPS" \
  --seeds="$SEEDS" --train_runs="$RUNS" "${EXTRA[@]}"
