"""Sphinx configuration of the airflow-provider-esign docs (``make docs``).

Why Sphinx with MyST rather than MkDocs: the official Airflow provider docs are Sphinx, so
``autodoc`` reads the same Airflow-style ``:param x:`` docstrings the code already has, and Sphinx's
strict mode (``-W -n``) fails the build on a broken cross-reference (pages, labels and Python
objects alike) or an unknown directive. MyST lets the pages stay plain Markdown that GitHub renders
and the test suite parses (``tests/docs``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent))
# autodoc imports the provider, which imports Airflow: a throw-away home, never the user's.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="esign-docs-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")

from esign_docs import INTERNAL_MODULES  # noqa: E402

import airflow_provider_esign  # noqa: E402

project = "airflow-provider-esign"
author = "airflow-provider-esign contributors"
copyright = "2026, airflow-provider-esign contributors"
release = version = airflow_provider_esign.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "esign_docs",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated/*.md", "README.md"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3  # [text](page.md#a-heading) links are checked like any other
suppress_warnings: list[str] = []

# Strict references: every reference into the provider must resolve; names from Airflow, the
# standard library and third parties are not documented here (no intersphinx: the build runs
# without network), so they are not checked.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(?!airflow_provider_esign\.).*"),
    (r"py:.*", INTERNAL_MODULES + r".*"),
    (r"py:.*", r"airflow_provider_esign\..*\.T"),  # a generic method's type variable
]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options = {"show-inheritance": False}

html_theme = "furo"
html_title = f"airflow-provider-esign {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
# Code and names stay as typed (no curly quotes): what a reader copies is what runs.
smartquotes = False
