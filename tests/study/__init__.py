"""Tests of the human-study web app (a package, so its conftest does not shadow the root one)."""
