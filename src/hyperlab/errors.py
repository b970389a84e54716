"""Errors a user can cause. The CLI prints them as one line and exits with code 2."""

from __future__ import annotations


class UserError(Exception):
    """Bad input (a study file, a flag, a missing dataset): reported in one line, exit code 2.

    The message should name the file, the key and what is allowed, e.g.
    ``studies/x.toml: train.optimizer.lr: must be > 0, got -1``.
    """


class DataNotFoundError(UserError):
    """A dataset could not be found locally nor downloaded; the message says what fixes it."""
