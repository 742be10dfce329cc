"""Benchmarks: real servers on loopback, each figure a ratio against a baseline measured in the
same run. `python -m bench` (or `make bench`) writes bench/RESULTS.md; see bench/README.md."""
