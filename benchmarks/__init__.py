"""The milestone-processing benchmark: a seeded data generator, the honest floor (benchmarks.floor) and the runner.

Not part of the installed package and not part of the test suite (``tests/benchmarks`` runs a small
version as a correctness check only). See BENCHMARKS.md for the command and the figures.
"""
