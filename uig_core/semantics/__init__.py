"""What items mean: text embeddings, interest points and their names, users' interest profiles.

Modules::

    embeddings  Embedder, item_texts: sentence-transformers embeddings with a disk cache
    bert_lite   a numpy runtime of the bundled MiniLM for small jobs
    interests   find_interests: item-embedding clusters
    names       name_clusters: merchandiser-style interest names
    profiles    user_profiles, interest_cooccurrence, assign_textless_items

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = ["embeddings", "bert_lite", "interests", "names", "profiles"]
