"""Benchmarks (not tests): run against the running stack, results saved under bench/results/."""
