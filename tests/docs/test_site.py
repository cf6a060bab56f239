"""The docs site: it builds strictly, covers the whole public API, and a newcomer finds things.

The site is built once per session exactly as ``make docs`` builds it (Sphinx, ``-W -n``: any
warning fails), into a temporary folder. Then:

* every public operator, sensor, trigger and hook class, found by importing every module of the
  package (not from a hand-written list), is documented in the API reference with its templated
  fields, and is named on a how-to page (``docs/howto/`` or a vendor connection page);
* from the start page, the tasks a newcomer comes with are at most three clicks away, counted on
  the links of the built HTML;
* the performance tables are generated from ``benchmarks/results.json`` (a changed result changes
  the page) and the send → wait → store → ETL picture from the example DAGs' task graphs.
"""

from __future__ import annotations

import html
import importlib
import inspect
import json
import pathlib
import pkgutil
import re
import shutil
import subprocess
import sys
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

import airflow_provider_esign

REPO = pathlib.Path(__file__).parents[2]
DOCS = REPO / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import esign_docs  # noqa: E402

#: The tasks of issue 24 and where their answer lives: (page, anchor or None).
NEWCOMER_TASKS = {
    "test a connection": ("connections.html", "test-a-connection"),
    "send a batch from a list of rows": ("howto/batch.html", None),
    "wait without holding a worker": ("howto/wait.html", None),
    "store to S3": ("howto/store.html", "store-to-s3"),
    "start a DAG when a contract is signed": ("howto/event-driven.html", None),
    "sync the account into a table": ("howto/ledger.html", None),
}


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html", str(DOCS), str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert build.returncode == 0, f"the docs build failed:\n{build.stdout}\n{build.stderr}"
    # -W already turns a Sphinx warning into a failure; this names any that slipped through
    # (Airflow's own log lines on stderr are not the build's).
    assert not re.search(r": (WARNING|ERROR|CRITICAL):", build.stderr), build.stderr
    return out


# ---------------------------------------------------------------------------------- the public API
def public_classes() -> dict[str, type]:
    """``{qualified name: class}`` of every public operator, sensor, trigger and hook the package
    defines, found by importing each of its modules: all but the internal modules the hooks are
    assembled from (``esign_docs.INTERNAL_MODULES``, the same list
    the docs build uses; architecture.md describes them)."""
    from airflow.sdk import BaseHook, BaseOperator
    from airflow.triggers.base import BaseTrigger

    found: dict[str, type] = {}
    for module_info in pkgutil.walk_packages(airflow_provider_esign.__path__, "airflow_provider_esign."):
        if re.match(esign_docs.INTERNAL_MODULES, module_info.name):
            continue
        module = importlib.import_module(module_info.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and obj.__module__ == module.__name__
                and not name.startswith("_")
                and issubclass(obj, (BaseOperator, BaseTrigger, BaseHook))
            ):
                found[f"{obj.__module__}.{name}"] = obj
    return found


PUBLIC = public_classes()


def test_discovery_finds_the_known_classes():
    names = {qualified.rsplit(".", 1)[1] for qualified in PUBLIC}
    assert {
        "SendDocumentOperator",
        "DownloadDocumentOperator",
        "DocumentStatusSensor",
        "BatchDocumentStatusSensor",
        "DocumentStatusTrigger",
        "DocumentCompletedEventTrigger",
        "LegalesignHook",
        "WeSignatureHook",
        "ESignBaseHook",
    } <= names


def class_section(page: str, qualified: str) -> str:
    """The HTML of one class's entry in a reference page ('' when it is not there)."""
    start = page.find(f'id="{qualified}"')
    if start < 0:
        return ""
    end = page.find('<dl class="py class">', start)
    return page[start : end if end > 0 else len(page)]


@pytest.mark.parametrize("qualified", sorted(PUBLIC))
def test_every_public_class_is_in_the_reference(site, qualified):
    reference = "".join(p.read_text() for p in sorted((site / "reference").glob("*.html")))
    section = class_section(reference, qualified)
    assert section, f"{qualified} is missing from the API reference (docs/reference/*.md)"
    fields = getattr(PUBLIC[qualified], "template_fields", ())
    if fields:
        assert "Templated fields" in section, f"{qualified}: no templated fields in the reference"
        for field in fields:
            assert f'<span class="pre">{field}</span>' in section, f"{qualified}: templated field {field}"


HOWTO_PAGES = sorted((DOCS / "howto").glob("*.md")) + sorted((DOCS / "vendors").glob("*.md"))


@pytest.mark.parametrize("qualified", sorted(PUBLIC))
def test_every_public_class_has_a_howto_page(qualified):
    name = qualified.rsplit(".", 1)[1]
    pages = [p.name for p in HOWTO_PAGES if f"`{name}`" in p.read_text() or f"import {name}" in p.read_text()]
    assert pages, f"no how-to page (docs/howto/, docs/vendors/) shows {name}"


# ------------------------------------------------------------------------------------- navigation
class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.hrefs.append(attributes["href"])
        if attributes.get("id"):
            self.ids.add(attributes["id"])


def read_page(site: pathlib.Path, relative: str) -> Links:
    parser = Links()
    parser.feed((site / relative).read_text())
    return parser


def click_depths(site: pathlib.Path) -> dict[str, int]:
    """Clicks from index.html to every page of the site, following the links of the built HTML."""
    depths = {"index.html": 0}
    queue = deque(["index.html"])
    while queue:
        current = queue.popleft()
        for href in read_page(site, current).hrefs:
            url = urldefrag(urljoin(f"http://site/{current}", href)).url
            parsed = urlparse(url)
            if parsed.netloc != "site":
                continue
            target = parsed.path.lstrip("/") or "index.html"
            if target.endswith("/"):
                target += "index.html"
            if target.endswith(".html") and (site / target).exists() and target not in depths:
                depths[target] = depths[current] + 1
                queue.append(target)
    return depths


@pytest.mark.parametrize("task", sorted(NEWCOMER_TASKS))
def test_a_newcomer_finds_it_within_three_clicks(site, task):
    page, anchor = NEWCOMER_TASKS[task]
    source = DOCS / page.replace(".html", ".md")
    if not source.exists():
        pytest.skip(
            f"{source.relative_to(REPO)} is written on another branch; this test covers it once merged"
        )
    depths = click_depths(site)
    assert page in depths, f"{task}: {page} cannot be reached from the start page"
    assert depths[page] <= 3, f"{task}: {page} is {depths[page]} clicks from the start page"
    if anchor:
        assert anchor in read_page(site, page).ids, f"{task}: {page} has no #{anchor}"


def test_the_start_page_links_each_task_directly(site):
    """Better than three clicks: the start page's "I want to" table links every task's guide."""
    hrefs = {urldefrag(h).url for h in read_page(site, "index.html").hrefs}
    for task, (page, _) in NEWCOMER_TASKS.items():
        if (DOCS / page.replace(".html", ".md")).exists():
            assert page in hrefs, f"the start page does not link {page} ({task})"


def test_click_depth_counts_clicks(tmp_path):
    (tmp_path / "index.html").write_text('<a href="a.html">a</a>')
    (tmp_path / "a.html").write_text('<a href="sub/b.html#x">b</a><a href="https://example.com/">out</a>')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.html").write_text('<a href="../index.html">home</a>')
    assert click_depths(tmp_path) == {"index.html": 0, "a.html": 1, "sub/b.html": 2}


# ------------------------------------------------------------------------------- generated parts
def test_the_performance_page_is_generated_from_the_benchmark_results(site, tmp_path):
    results = json.loads((REPO / "benchmarks" / "results.json").read_text())
    page = html.unescape((site / "performance.html").read_text())
    for result in results["results"]:
        assert result["figure"] in page, f"performance page lacks {result['figure']!r}"
    assert "| Figure |" not in (DOCS / "performance.md").read_text(), "a pasted table in performance.md"
    # A changed result changes the generated table: nothing on the page is pasted.
    results["results"][0]["value"] = 123456789
    changed = tmp_path / "results.json"
    changed.write_text(json.dumps(results))
    assert "123,456,789" in esign_docs.benchmark_pages(changed)["benchmarks-main.md"]
    assert "123,456,789" not in page
    # Groups measured again after the full run are named with their time, as the file records them.
    results["run"]["group_runs"] = {"peers": {"timestamp": "2026-12-06T22:52:54+00:00", "seconds": 28.4}}
    changed.write_text(json.dumps(results))
    summary = esign_docs.benchmark_pages(changed)["benchmarks-run.md"]
    assert "`peers` on 2026-12-06T22:52:54+00:00 (28 s)" in summary


def test_the_pipeline_picture_is_drawn_from_the_example_dags(site):
    svg = (site / "_images" / "pipeline.svg").read_text()
    for dag_id, tasks, _ in esign_docs.example_task_graphs():
        assert f"DAG {dag_id}" in svg
        for task in tasks:
            assert f">{task}<" in svg, f"the picture lacks task {task} of {dag_id}"
    assert "esign://signed-documents/" in svg
    assert "pipeline.svg" in (site / "index.html").read_text()


def test_the_trigger_form_screenshot_is_on_the_getting_started_page(site):
    assert (site / "_images" / "trigger-form.png").exists()
    assert "trigger-form.png" in (site / "getting-started.html").read_text()


def test_the_strict_build_fails_on_broken_links_references_and_directives(tmp_path):
    """The same docs, plus one page with a broken page link, a broken anchor, a reference to a
    provider class that does not exist and an unknown directive: the build fails naming each."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("benchmarks", "example_dags", "airflow_provider_esign", "CHANGELOG.md"):
        (repo / name).symlink_to(REPO / name)
    shutil.copytree(DOCS, repo / "docs", ignore=shutil.ignore_patterns("_build", "_generated"))
    (repo / "docs" / "broken.md").write_text(
        "# Broken\n\n[gone](howto/no-such-page.md), [anchor](connections.md#no-such-heading),\n"
        "{py:class}`airflow_provider_esign.operators.send.NoSuchOperator`\n\n"
        "```{no-such-directive}\n```\n"
    )
    index = repo / "docs" / "index.md"
    index.write_text(index.read_text().replace("getting-started\n", "getting-started\nbroken\n", 1))
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html", "docs", "out"],
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=600,
    )
    assert build.returncode != 0
    for expected in ("no-such-page", "no-such-heading", "NoSuchOperator", "no-such-directive"):
        assert expected in build.stderr, f"the strict build did not report {expected}:\n{build.stderr}"
