"""``numnet sweep``: hyperparameter sweeps on Optuna, every trial a real ``numnet train`` run.

Modules: :mod:`~numnet.cli.sweep.options` (the command's flags), :mod:`~numnet.cli.sweep.space`
(the space file), :mod:`~numnet.cli.sweep.objective` (one trial), :mod:`~numnet.cli.sweep.command`
(the command), :mod:`~numnet.cli.sweep.workers` (``--workers K``), :mod:`~numnet.cli.sweep.show`
(table, ``best/``, pictures), :mod:`~numnet.cli.sweep.storage` (where the study lives). Optuna is
imported only when a sweep runs.
"""
