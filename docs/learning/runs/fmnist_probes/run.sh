#!/bin/bash
# Fashion-MNIST alone with multimodel_chars (+ HPARAMS), STEPS steps, then
# the first 2,000 dev images decoded (greedy). Run from a checkout with its
# virtualenv active; DATA: a data_dir with image_fashion_mnist.
# Usage: DATA=D WORK=W run.sh NAME STEPS HPARAMS
D=${DATA:?}
NAME=$1; STEPS=$2; H=$3
OUT=${WORK:-.}/$NAME
t0=$(date +%s)
t2tlite-trainer --problems=image_fashion_mnist --model=multimodel \
  --hparams_set=multimodel_chars --hparams="$H" --data_dir=$D \
  --output_dir=$OUT --train_steps=$STEPS --eval_every=$STEPS --eval_steps=5 \
  --log_every=250 > $OUT.train.log 2>&1
t1=$(date +%s)
t2tlite-decoder --problem=image_fashion_mnist --output_dir=$OUT \
  --decode_split=dev --decode_limit=2000 \
  --decode_hparams=beam_size=1,batch_size=64 --decode_to_file=$OUT.dev.txt \
  > $OUT.dec.log 2>&1
echo "$NAME steps=$STEPS hp=$H train_s=$((t1-t0)) $(grep -i accuracy $OUT.dec.log | tail -1)"
