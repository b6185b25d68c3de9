"""Runs: the store, the queue, worker processes, local and Ray runners, waits, the class's labelled drawings."""
