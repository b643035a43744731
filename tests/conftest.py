"""Shared test configuration. Fixture modules live in ``tests/support``."""
