"""Decoding: a trained run's outputs for a split or a user's inputs.

decoder (loads a run, decodes, scores), search (greedy and beam search)
and tree_constraint (well-formed parse trees by construction).
"""
