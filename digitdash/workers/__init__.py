"""Who trains the runs: admission to the queue, worker processes on this machine, runs as Ray tasks."""
