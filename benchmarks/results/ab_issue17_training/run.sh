#!/usr/bin/env bash
# Does the redesign change training? The quality run's joint recipe for
# STEPS steps on one data_dir, pinned to one core, with two checkouts' own
# virtualenvs; then the per-step training losses side by side.
#   bash run.sh OLD_CHECKOUT NEW_CHECKOUT DATA_DIR OUT [STEPS]
set -euo pipefail
OLD=$1 NEW=$2 DATA=$3 OUT=$4 STEPS=${5:-30}
MIX="weights:translate_ende_ddtp=0.25,translate_enfr_ddtp=0.2"
MIX="$MIX,image_fashion_mnist=0.1,speech_tts_en_chars=0.2"
MIX="$MIX,parsing_english_silver=0.2,image_caption_tuxpaint=0.05"
PROBLEMS="translate_ende_ddtp-translate_enfr_ddtp-image_fashion_mnist"
PROBLEMS="$PROBLEMS-speech_tts_en_chars-parsing_english_silver"
PROBLEMS="$PROBLEMS-image_caption_tuxpaint"
for side in old new; do
  checkout=$OLD; [[ $side == new ]] && checkout=$NEW
  rm -rf "$OUT/$side"
  (cd "$checkout" && git log --oneline -1 | cut -c1-60)
  taskset -c "${CORE:-0}" "$checkout/.venv/bin/t2tlite-trainer" \
    --problems="$PROBLEMS" --model=multimodel --hparams_set=multimodel_chars \
    --hparams=dropout=0.2 --mixing="$MIX" --data_dir="$DATA" \
    --output_dir="$OUT/$side" --train_steps="$STEPS" --log_every=10 \
    2>&1 | grep -E "built|step $STEPS/" || true
done
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
def losses(side):
  with open(f"{out}/{side}/train_loss.jsonl") as f:
    return [json.loads(l) for l in f if l.strip()]
old, new = losses("old"), losses("new")
same = sum(a == b for a, b in zip(old, new))
for a, b in zip(old, new):
  print(a["step"], a["problem"], a["loss"], b["loss"],
        "equal" if a == b else "DIFFER")
print(f"{same} of {max(len(old), len(new))} steps with equal problem and loss")
PY
