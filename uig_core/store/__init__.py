"""Where datasets live: the DuckDB workspace and the frames computed from a dataset's events.

Modules::

    workspace  Workspace, DatasetInfo: datasets, events, build registry, settings
    frames     items_frame, users_frame
    money      money_sql, user_money: spend and orders net of returns (the one definition of money)

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = ["workspace", "frames", "money"]
