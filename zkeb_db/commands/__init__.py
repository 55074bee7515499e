"""Subcommands of ``zkeb-db``.

Every module in this package that defines ``register(subparsers)`` adds one or
more subcommands; ``zkeb_db.cli`` discovers them, so adding a command never
means editing a shared list.  ``register`` must set ``func`` on its parser via
``set_defaults(func=...)``; ``func(args)`` returns the process exit code.
"""
