"""What the pages and the CLI ask of a finished build: lists, tables, portraits, segments, reasons.

Modules::

    pickers          find_users, find_items, item_labels, categories
    recommendations  recommendation_table, compare_models, audience_table
    home             home_summary, home_view (the Home page: summary, default model, upload quality, trends)
    trends           events over time by type, the interest landscape (share, trend, new and rising)
    portrait         portrait
    story            a portrait's interest timeline (weekly or monthly by span) and its summary line
    searches         recent searches and the interests they point to, "searched for X", search-only users' items
    rfm              rfm: recency, frequency (net orders) and monetary (net spend), scored 1-5
    interest_list    interest_list
    feature_table    FeatureTable: the fields segment rules run on, a column produced only when asked
    feature_sources  build_features: a build's fields and the one definition of each column
    features         user_features (the same fields as one frame), extra_user_values (DuckDB)
    segments         segment rules, lookalikes, safe export
    segment_store    saved segment specs and cluster names (kept with a member sample, matched on a rebuild)
    segment_names    what a cluster is: distinctive interests (lift), behaviour against everyone, automatic name
    clusters         k-means user clusters, k chosen by silhouette among the stable k
    user_map         the 2-D user map (PCA or t-SNE of a sample)
    explain          explain_items: the reason behind a recommendation
    vectors          VectorIndex (cosine neighbours: exact or faiss IVF), serving_indexes (a build step)
    similar          similar_rows: similar users with support, ties by overlap (Bundle.similar_users)

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = [
    "pickers",
    "recommendations",
    "home",
    "trends",
    "portrait",
    "story",
    "searches",
    "rfm",
    "interest_list",
    "feature_table",
    "feature_sources",
    "features",
    "segments",
    "segment_store",
    "segment_names",
    "clusters",
    "user_map",
    "explain",
    "vectors",
    "similar",
]
