"""What items mean: text embeddings, interest points and their names, users' interest profiles.

Modules::

    embeddings  Embedder, item_texts: item text embeddings (static or transformer) with a disk cache
    registry    the models selectable by name (minilm-static, the default; minilm) and their stable ids
    static      the static model distilled offline from the bundled MiniLM at set-up, and its encoder
    bert_lite   a numpy runtime of the bundled MiniLM for small jobs and for distilling
    interests   find_interests: item-embedding clusters
    names       name_clusters: merchandiser-style interest names
    profiles    profiles_from_evidence, user_profiles, interest_cooccurrence, assign_textless

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = ["embeddings", "registry", "static", "bert_lite", "interests", "names", "profiles"]
