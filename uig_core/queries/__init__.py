"""What the pages and the CLI ask of a finished build: lists, tables, portraits, segments, reasons.

Modules::

    pickers          find_users, find_items, item_labels, categories
    recommendations  recommendation_table, compare_models, audience_table
    home             home_summary
    portrait         portrait
    interest_list    interest_list
    segments         segment rules, lookalikes, safe export
    clusters         k-means user clusters and the 2-D user map
    explain          explain_items: the reason behind a recommendation

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = ["pickers", "recommendations", "home", "portrait", "interest_list", "segments", "clusters", "explain"]
