#!/usr/bin/env bash
# Speed perturbation A/B on speech (issue 15): multimodel_chars alone on
# speech_tts_en_chars, STEPS steps, plain (ARM=plain) or with
# speed_perturb=0.1 (ARM=speed), one core; dev WER/CER decoded every 500
# steps (first 100 dev clips: unseen voices), then the five real LibriVox
# clips (not used to choose). Run both arms, each on its own core:
#   WORK=W CORE=0 ARM=plain bash docs/learning/runs/speech_augment/run.sh
#   WORK=W CORE=1 ARM=speed bash docs/learning/runs/speech_augment/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)"
cd "$ROOT"
STEPS="${STEPS:-3000}"
case "$ARM" in
  plain) OVR="" ;;
  speed) OVR="speed_perturb=0.1" ;;
  *) echo "ARM must be plain or speed" >&2; exit 2 ;;
esac
NAME="speech_augment_$ARM"
DECODE=100 bash scripts/learning_curve.sh "$NAME" speech_tts_en_chars \
  multimodel multimodel_chars "$STEPS" 500 "$OVR"
# shellcheck disable=SC1091
source scripts/setup_env.sh
taskset -c "${CORE:-0}" python scripts/speech_librivox.py \
  "$WORK/curves/$NAME" --problem speech_tts_en_chars \
  --decode_hparams beam_size=4 > "docs/learning/runs/$NAME/librivox.txt"
