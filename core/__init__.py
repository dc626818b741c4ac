"""Shared kernel: domain models, settings, store, logging. Imports no other project package."""
