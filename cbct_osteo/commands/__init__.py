"""One module per ``cbct-osteo`` subcommand, each with ``add_arguments(parser)`` and ``run(args) -> int``.

Keeping every command in its own module lets its owner change it without touching the
others, and keeps start-up fast: ``cli`` imports a command module only when it runs.
"""
