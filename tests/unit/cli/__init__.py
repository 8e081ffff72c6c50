"""Unit tests of the bank command line."""
