"""The ``uig`` command line: :func:`~uig_core.cli.main.main` and one module per command group.

Modules::

    main      main, build_parser
    common    what every command shares
    data      ingest, datasets, demo
    building  build, builds, rollback, evaluate
    explore   recommend, interests, portrait, graph
    serve     app

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = ["main", "common", "data", "building", "explore", "serve"]
