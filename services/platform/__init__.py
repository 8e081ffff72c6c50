"""Plumbing every service shares (app factory, settings base, health, pagination, errors); no domain logic."""
