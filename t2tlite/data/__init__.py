"""Data: what a problem is and how its examples are made, stored and read.

problem (the Problem base and its spec), the families' bases (text_problem,
image_problems, speech_problems), pipeline (the one input pipeline: shard
reading, length caps and bucketed batches for every problem), vocab
(subword and byte vocabularies), data_io (TFRecord shards), datagen,
class_label (class-name targets), and the raw-value helpers audio,
image_utils and trees. Nothing here knows a model.
"""
