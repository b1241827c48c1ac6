"""Training: the trainer loop and what it is made of.

trainer (the loop, evals, checkpoints), train_steps and distribute (one
update on one device or on many), optimization (schedule, optimizer, the
one update rule), mixing (which problem each step trains), run_config (the
run's saved settings), summaries, warm_start and checkpoint_avg.
"""
