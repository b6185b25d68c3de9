"""Runs kept: the store (SQLite and a folder per run), statuses, the fair queue's order, waits."""
