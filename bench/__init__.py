"""Benchmarks of Liandong: `make bench` (bench/README.md); never collected by `make test`."""
