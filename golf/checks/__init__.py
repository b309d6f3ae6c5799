"""Checks: one small registered rule per finding kind."""
