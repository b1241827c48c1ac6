"""Metrics the problems name: evalb (labelled bracket F1, as evalb scores
it) and wer (word and character error rates)."""
