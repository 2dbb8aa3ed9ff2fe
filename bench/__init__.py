"""Benchmarks of the platform: `python -m bench <name> [options]`. See bench/README.md."""
