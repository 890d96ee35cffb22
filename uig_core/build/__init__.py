"""Making and loading builds: the pipeline's steps, the one owner of the build folder, the history.

Modules::

    pipeline   build, run_build: the sequence of steps
    steps      the data steps, each a function
    training   Trainer, train_models: fitting the build's models
    selection  select_defaults: each task's default model, chosen on validation
    scoring    score_candidates, estimate_seconds: the candidates on one validation split
    validation discover_windows: the validation windows (pooled on small logs)
    clustering build_segments: the user clusters a build stores (what the Segments page reads)
    scheduler  Scheduler: the build's worker threads
    layout     the build folder's file names and formats (every reader and the writer use it)
    bundle     Bundle: a finished build loaded for queries (lazily; big arrays memory-mapped)
    parts      the bundle's lazily loaded parts (a thread-safe cached property)
    history    build_history, rollback, build_lines

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = ["pipeline", "steps", "training", "clustering", "scheduler", "layout", "bundle", "parts", "history"]
