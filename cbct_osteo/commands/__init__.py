"""One module per ``cbct-osteo`` subcommand, each with ``add_arguments(parser)`` and ``run(args) -> int``.

Keeping every command in its own module lets its owner change it without touching the
others, and keeps start-up fast: ``cli`` imports a command module only when it runs.
:mod:`~cbct_osteo.commands.case_options` (not a command) holds what ``measure``, ``report``,
``batch`` and ``validate`` share: their case options and the reading and analysis of one case.
"""
