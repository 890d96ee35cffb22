"""Scores about users beside their interests: interest drift and anomaly (bot) scores.

Modules::

    drift  drift_scores, interest_timeline
    risk   anomaly_scores

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = ["drift", "risk"]
