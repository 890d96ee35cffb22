"""The seeded demo shop behind ``demo_data/``: planted themes, drifters and bots with their ground truth.

Modules::

    generator   generate, ensure_demo_data, load_ground_truth, DEMO_DIR
    vocabulary  themes, brands and products

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = ["generator", "vocabulary"]
