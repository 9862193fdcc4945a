"""Data sets the grader trains student models on, resolved offline first and verified by hash."""
