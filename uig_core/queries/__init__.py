"""What the pages and the CLI ask of a finished build: lists, tables, portraits, segments, reasons.

Modules::

    pickers          find_users, find_items, item_labels, categories
    recommendations  recommendation_table, compare_models, audience_table
    home             home_summary
    portrait         portrait
    interest_list    interest_list
    features         user_features (the frame segment rules run on), extra_user_values (DuckDB)
    segments         segment rules, lookalikes, safe export
    clusters         k-means user clusters and the 2-D user map
    explain          explain_items: the reason behind a recommendation
    vectors          VectorIndex (cosine neighbours: exact or faiss IVF), serving_indexes (a build step)

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = [
    "pickers",
    "recommendations",
    "home",
    "portrait",
    "interest_list",
    "features",
    "segments",
    "clusters",
    "explain",
    "vectors",
]
