"""Page state in the URL: ``?dataset=NAME&user=ID…`` survives a reload, can be shared and bookmarked.

Streamlit keeps widget values in ``st.session_state``, which a reload (a new session) forgets, and clears the query
string when the analyst switches pages. So each run:

* :func:`restore` copies a URL parameter into a widget's session key, once per session, before the widget
  is drawn (the widget then starts at the shared value);
* :func:`publish` writes the page's current inputs back into the URL (``None`` removes a parameter).

Values from a URL are as hostile as values from a log: callers restore only into widgets whose options they check
(``allowed``), and a value that is not among them is dropped silently, the page falling back to its default.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import streamlit as st

__all__ = ["restore", "publish", "url_value"]

_RESTORED = "uig_url_restored"  # the (page, key) pairs already restored in this session
_MAX_LEN = 200  # longer values are not ids anyone shares


def url_value(param: str) -> str | None:
    """The URL's value of ``param`` (the last one when repeated), or None."""
    value = st.query_params.get(param)
    if value is None or len(value) > _MAX_LEN:
        return None
    return str(value)


def restore(
    key: str,
    param: str,
    *,
    allowed: Collection[str] | Callable[[str], bool] | None = None,
    convert: Callable[[str], object] = str,
) -> object | None:
    """Seed ``st.session_state[key]`` from ``?param=`` once per session and page.

    Args:
        key: The widget's session key.
        param: The URL parameter.
        allowed: The values the widget accepts (a collection or a predicate); others are ignored.
        convert: Turns the URL's text into the widget's value type (``int`` for a number input).

    Returns:
        The restored value, or None when nothing was restored.
    """
    done: set[str] = st.session_state.setdefault(_RESTORED, set())
    if key in done:  # widget keys are page-prefixed (portrait_user, rec_user): one entry per page's widget
        return None
    done.add(key)
    raw = url_value(param)
    if raw is None:
        return None
    if allowed is not None:
        ok = allowed(raw) if callable(allowed) else raw in allowed
        if not ok:
            return None
    try:
        value = convert(raw)
    except (TypeError, ValueError):
        return None
    st.session_state[key] = value
    return value


def publish(**params: object | None) -> None:
    """Write ``name=value`` pairs into the URL; None removes a parameter. Unchanged values cost nothing."""
    for name, value in params.items():
        if value is None or value == "":
            if name in st.query_params:
                del st.query_params[name]
            continue
        text = str(value)
        if st.query_params.get(name) != text:
            st.query_params[name] = text
