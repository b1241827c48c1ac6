#!/bin/bash
# the previous main job's model (e51a362, weights 0.4/0.15/0.2/0.2/0.05, 2,500 steps) on the same dev examples as runs A/B
source VENV/bin/activate
OUT=${RUN:?}
for p in translate_ende_ddtp image_fashion_mnist speech_tts_en_chars parsing_english_silver image_caption_tuxpaint; do
  taskset -c 0 t2tlite-decoder --problem=$p --output_dir=$OUT --data_dir=${DATA:?} --decode_split=dev --decode_limit=200 --decode_hparams=beam_size=2,batch_size=64 --decode_to_file=${OUTDIR:-.}/old_dev_$p.txt 2>&1 | grep -iE "^\|" | tail -3
done
