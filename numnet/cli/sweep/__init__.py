"""``numnet sweep``: hyperparameter sweeps on Optuna, every trial a real ``numnet train`` run.

Modules: :mod:`~numnet.cli.sweep.options` (the command's flags), :mod:`~numnet.cli.sweep.space`
(the space file), :mod:`~numnet.cli.sweep.objective` (one trial), :mod:`~numnet.cli.sweep.command`
(the command), :mod:`~numnet.cli.sweep.workers` (``--workers K``), :mod:`~numnet.cli.sweep.show`
(table, ``best/``, pictures); where the study lives: :mod:`~numnet.cli.sweep.storage` (opening and
creating it), :mod:`~numnet.cli.sweep.journal` and :mod:`~numnet.cli.sweep.database` (the journal
file and database storages) and :mod:`~numnet.cli.sweep.budget` (exactly N trials over all
workers). Optuna is imported only when a sweep runs.
"""
