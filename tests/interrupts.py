"""Child processes that a test interrupts with SIGINT must be able to receive it.

A process started in the background by a non-interactive shell (``cmd &``, ``nohup``, some CI
runners) inherits SIGINT ignored, and Python then leaves it ignored: ``send_signal(SIGINT)`` would
do nothing and the test would wait for its timeout. ``preexec_fn=sigint_default`` gives the child
the default disposition, so Python installs its KeyboardInterrupt handler as it does in a terminal.
"""

from __future__ import annotations

import signal


def sigint_default() -> None:
    """Run in the child between fork and exec: SIGINT back to its default action."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
