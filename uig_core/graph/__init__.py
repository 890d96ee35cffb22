"""The user–item–interest graph: weighted edges, neighbourhood views and their offline HTML.

Modules::

    edges  interaction_matrix, strongest_event_matrix, graph_counts, to_hetero_data
    view   neighborhood, interest_overview: node/edge frames
    html   render_html, save_html: the offline pyvis page

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = ["edges", "view", "html"]
