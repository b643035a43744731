"""The alert engine: drop-rate rules, the state machine, Slack outbox and guarded auto-pause.

Runs on the leader only and reads the snapshot cache like every other reader; it writes its
own view (open incidents, each window's alert state) under its own cache key for every
instance's TVs, API and metrics.
"""
