"""Sphinx configuration of the skdeepclust documentation (``make docs``)."""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
# Document the checkout next to this folder, installed or not.
sys.path.insert(0, str(DOCS.parent))

# The gallery executes every example while building; smoke mode shrinks each one to a few
# seconds (fewer samples and epochs), so the figures come from briefly trained models.
# SKDEEPCLUST_SMOKE=0 (`make docs SMOKE=0`) runs them with their full budgets instead.
os.environ.setdefault("SKDEEPCLUST_SMOKE", "1")
# Idle OpenMP threads sleep instead of spinning, which keeps the gallery fast on busy machines;
# torch reads this when it is first imported, after this file.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from sphinx_gallery.sorting import ExplicitOrder  # noqa: E402

import skdeepclust  # noqa: E402

project = "skdeepclust"
author = "skdeepclust developers"
copyright = "skdeepclust developers, BSD-3-Clause"
version = release = skdeepclust.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "benchmarks.md"]
html_theme = "pydata_sphinx_theme"
html_title = f"skdeepclust {release}"
html_theme_options = {"navigation_with_keys": False, "secondary_sidebar_items": ["page-toc"]}
# Single pages have no section navigation: give their width to the text.
html_sidebars = {page: [] for page in ("index", "getting_started", "user_guide", "benchmarks")}

autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's Parameters sections already give the types
autodoc_default_options = {"members": True}
# Generated member tables would duplicate autodoc's: the class template lists the methods.
numpydoc_show_class_members = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "subsection_order": ExplicitOrder(
        ["../examples/tasks", "../examples/dmae", "../examples/mcdc"]
    ),
    "within_subsection_order": "FileNameSortKey",
    "filename_pattern": r"/plot_",
    "doc_module": ("skdeepclust",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"skdeepclust": None},
    "remove_config_comments": True,
    # Show what the examples print, not the repr of each cell's last expression.
    "capture_repr": (),
    "download_all_examples": False,
    # The timings page would be written into the source folder, and smoke-mode times say little.
    "write_computation_times": False,
}


def _include_benchmarks(app, docname, source):
    """Show ``docs/benchmarks.md`` (written by the benchmark runs) verbatim if it exists.

    myst is not a dependency, so the Markdown is shown as a literal block instead of being
    parsed; without the file the page keeps its placeholder.
    """
    table = DOCS / "benchmarks.md"
    if docname != "benchmarks" or not table.exists():
        return
    app.env.note_dependency(str(table))  # rebuild the page when the table changes
    source[0] = source[0].replace(
        ".. benchmark-results-placeholder",
        ".. literalinclude:: benchmarks.md\n   :language: markdown",
    )


def setup(app):
    app.connect("source-read", _include_benchmarks)
