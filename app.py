"""UIG dashboard: a router over app_pages/ (run with `make run` or `uig app`)."""

import streamlit as st

from uig_app.state import dataset_picker, password_gate
from uig_app.theme import PAGE_CONFIG, apply_css


def run() -> None:
    """Configure the page, gate on the password, then hand over to the chosen page."""
    st.set_page_config(**PAGE_CONFIG)
    apply_css()  # columns wrap in narrow windows
    if not password_gate():
        return
    pages = {
        "Explore": [
            st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
            st.Page("app_pages/upload.py", title="Upload logs", icon=":material/upload:"),
            st.Page("app_pages/graph.py", title="Interest graph", icon=":material/hub:"),
            st.Page("app_pages/portraits.py", title="User portraits", icon=":material/person:"),
        ],
        "Act": [
            st.Page("app_pages/segments.py", title="Clusters & segments", icon=":material/groups:"),
            st.Page("app_pages/recommendations.py", title="Recommendations", icon=":material/recommend:"),
            st.Page(
                "app_pages/model_quality.py", title="Model quality", icon=":material/analytics:", url_path="quality"
            ),
        ],
    }
    nav = st.navigation(pages, position="sidebar")
    dataset_picker()
    nav.run()


run()
