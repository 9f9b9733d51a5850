"""numnet benchmark suite: numnet against PyTorch (and scikit-learn) on the same workloads.

Run ``python -m bench.run --help``. Results are printed as a table and written as JSON
(``bench/results/latest.json`` by default). Optional dependencies (torch, scikit-learn,
threadpoolctl) are imported lazily; a missing one makes its column read "n/a".
"""
