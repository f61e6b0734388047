"""The app's model: the run session (worker process, runs, histories), the view state, settings."""
