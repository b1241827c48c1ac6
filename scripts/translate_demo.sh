#!/usr/bin/env bash
# The main job on the embedded default: real English->German translation
# from Debian's package-description translations (DDTP). Datagen, a few
# minutes of training on the CPU, then BLEU on the held-out test split and
# sample translations. Set STEPS, WORK or HPARAMS_SET to change it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
source "$ROOT/scripts/setup_env.sh"
WORK="${WORK:-$ROOT/t2t_work}"
STEPS="${STEPS:-1500}"
HPARAMS_SET="${HPARAMS_SET:-transformer_small}"
PROBLEM=translate_ende_ddtp
mkdir -p "$WORK"
time t2tlite-datagen --problem=$PROBLEM --data_dir="$WORK/data" \
  --tmp_dir="$WORK/tmp"
time t2tlite-trainer --problem=$PROBLEM --model=transformer \
  --hparams_set="$HPARAMS_SET" --data_dir="$WORK/data" \
  --output_dir="$WORK/train_$HPARAMS_SET" --train_steps="$STEPS" \
  --eval_every=500 --eval_steps=20 --log_every=100
time t2tlite-decoder --problem=$PROBLEM --output_dir="$WORK/train_$HPARAMS_SET" \
  --decode_split=test --decode_hparams=beam_size=4,batch_size=64 \
  --decode_to_file="$WORK/test_output.de" --show_examples=5
