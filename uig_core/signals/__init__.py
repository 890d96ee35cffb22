"""Scores about users beside their interests: interest drift and anomaly (bot) scores.

Modules::

    drift     drift_scores (and DRIFT_THRESHOLD, above which a change is dated)
    dating    change_days: a change's day inside its bracket, by a population prior
    timeline  window_profiles, interest_timeline: a user's mix window by window
    risk      anomaly_scores (and ANOMALY_THRESHOLD, above which a user is flagged with a reason)

Import from the module that holds a name; this package imports nothing itself.
"""

__all__ = ["drift", "dating", "timeline", "risk"]
