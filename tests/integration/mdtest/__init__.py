"""Helpers for the magos-dominus integration tests.

Every server here binds 127.0.0.1 on a free port, lives in a temporary
directory and is stopped by its owner (the pytest fixtures in conftest.py),
so the suite never touches anything but the loopback interface.
"""
