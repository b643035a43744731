"""vicidial-wallboard: one poller, one cache, many readers (TV boards, Prometheus, alerts)."""

__version__ = "0.1.0"
