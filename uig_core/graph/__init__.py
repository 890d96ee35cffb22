"""The user–item–interest graph: weighted edges, neighbourhood views and their offline HTML.

Modules::

    edges       interaction_matrix, strongest_event_matrix, graph_counts, to_hetero_data
    kinds       NODE_TYPES, EDGE_TYPES, DEFAULT_EDGE_TYPES: plain names (no numpy, for the CLI's parser)
    adjacency   GraphIndex: the lazy adjacency the views walk
    nodes       node/edge types, colours, clean_text, resolve_center, node frames
    walk        neighborhood: the breadth-first ("hops") view
    focus       interest_first: user → interests → items; item → interest, also-taken items, shoppers
    overview    interest_overview: the interests, grouped into clusters
    positions   place: fixed positions (radial tree, clustered spring), labels pushed apart
    view        graph_view, overview_view: the views the page and the CLI draw (re-exports the vocabulary)
    html        vis_data, render_html, save_html: the drawing's data and the offline file (assets/graph.js)

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = ["edges", "kinds", "adjacency", "nodes", "walk", "focus", "overview", "positions", "view", "html"]
