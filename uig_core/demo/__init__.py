"""The seeded demo shop behind ``demo_data/``: planted themes, drifters and bots with their ground truth.

Modules::

    generator   generate, ensure_demo_data, load_ground_truth, DEMO_DIR
    vocabulary  themes, brands and products
    zh          the Chinese shop (``uig demo --lang zh``, demo_data/zh/): searches, pv/fav/cart/buy, boilerplate
    zh_vocabulary  its six themes, brands, product words, sizes and shop boilerplate

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = ["generator", "vocabulary", "zh", "zh_vocabulary"]
