"""Runs kept: the store (SQLite and a folder per run), its tables and statuses, the fair queue's order, waits, and the numbers every reader of runs computes."""
