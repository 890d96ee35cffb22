"""Measuring models: the protocol, the metrics, evaluation runs, a build's own figures, stored results.

Modules::

    protocol  Split, temporal_split, load_gowalla, COLD_THRESHOLD
    metrics   ranking_metrics, the cold slice, gini
    run       evaluate_model(s), evaluate_dataset
    on_build  validation_recall, next_batch_recall, evaluate_build
    results   run_evaluation, load_quality, quality_table: evaluations kept per build id
    jobs      start_job, read_job, cancel_job, run_job: an evaluation as a background process, state in the workspace

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = ["protocol", "metrics", "run", "on_build", "results", "jobs"]
