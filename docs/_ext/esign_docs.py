"""Build-time parts of the docs site: nothing on these pages is pasted or drawn by hand.

- ``_generated/benchmarks-*.md``: the performance tables and each figure's note (what the run
  measured besides the figure), rendered from ``benchmarks/results.json`` by the benchmarks' own
  table renderer (the performance page includes them).
- ``_generated/pipeline.svg``: the send → wait → store → ETL diagram, laid out from the task graphs
  of the example DAGs ``esign_send_and_store`` and ``esign_post_signature_etl`` as Airflow parses them,
  joined by the asset the first one's download emits and the second one is scheduled on.
- Operator and sensor docstrings in the API reference get a "Templated fields" line read from the
  class's ``template_fields``, so the reference cannot drift from the code.

Everything is generated without network access.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1]
REPO = DOCS.parent
GENERATED = DOCS / "_generated"
RESULTS = REPO / "benchmarks" / "results.json"

#: The provider's internal modules: the request pipeline, the vendor interface, declarations and
#: flows the hook classes are assembled from, the triggers' coalescing and cursor helpers, the
#: operators' shared base. architecture.md describes them; the API reference documents the public
#: classes built from them, and references into them from public docstrings are not errors.
INTERNAL_MODULES = (
    r"airflow_provider_esign\."
    r"(hooks\.(transport|registry|settings|batch|webhook|sync|download|reconcile|jsonstream|redirects|\w+\.(info|flows))"
    r"|triggers\.(coalesce|completions)|operators\.(base|manage\._))"
)


# --------------------------------------------------------------------------------------------------
# Performance tables
# --------------------------------------------------------------------------------------------------
def is_scale_figure(figure: str) -> bool:
    """The ``scale`` group measures accounts holding years of old contracts ("... old docs")."""
    return "old docs" in figure


def benchmark_pages(results_path: Path = RESULTS) -> dict[str, str]:
    """``{file name: Markdown}`` for the run summary and the two tables of ``results.json``."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from benchmarks.common import Result, render_table

    data = json.loads(results_path.read_text())
    run = data["run"]
    results = []
    for item in data["results"]:
        fields = {k: v for k, v in item.items() if k != "pass"}
        results.append(Result(passed=item.get("pass"), **fields))
    missed = [r.figure for r in results if r.passed is False]
    summary = (
        f"Run: `make bench` ({run.get('mode', 'full')} sizes), {run.get('seconds', 0):.0f} s on "
        f"{run.get('cpus', '?')} cores, Python {run.get('python', '?')}, Airflow {run.get('airflow', '?')}; "
        f"{len(results)} figures, "
        + (f"**{len(missed)} target(s) missed**: {', '.join(missed)}." if missed else "every target met.")
        + "\n"
    )
    again = run.get("group_runs") or {}
    if again:  # groups measured again since on newer code (`--merge`), their figures replaced
        summary += (
            "\nMeasured again since (`python -m benchmarks --only GROUP --merge benchmarks/results.json`): "
            + ", ".join(
                f"`{group}` on {info.get('timestamp', '?')} ({info.get('seconds', 0):.0f} s)"
                for group, info in sorted(again.items())
            )
            + ".\n"
        )

    def notes(selected: list[Any]) -> str:
        return "".join(f"- **{r.figure}**: {r.note}\n" for r in selected if r.note)

    main = [r for r in results if not is_scale_figure(r.figure)]
    scale = [r for r in results if is_scale_figure(r.figure)]
    return {
        "benchmarks-run.md": summary,
        "benchmarks-main-notes.md": notes(main),
        "benchmarks-scale-notes.md": notes(scale),
        "benchmarks-main.md": render_table(main) + "\n",
        "benchmarks-scale.md": render_table(scale) + "\n",
    }


# --------------------------------------------------------------------------------------------------
# The pipeline diagram
# --------------------------------------------------------------------------------------------------
def example_task_graphs() -> list[tuple[str, list[str], list[tuple[str, str]]]]:
    """``(dag_id, tasks in topological order, edges)`` of the two example DAGs, as Airflow parses them."""
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="esign-docs-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "example_dags"), safe_mode=False)
    if bag.import_errors:
        raise RuntimeError(f"example DAGs do not parse: {bag.import_errors}")
    graphs = []
    for dag_id in ("esign_send_and_store", "esign_post_signature_etl"):
        dag = bag.dags[dag_id]
        order = [t.task_id for t in dag.topological_sort()]
        edges = [(t.task_id, d) for t in dag.tasks for d in sorted(t.downstream_task_ids)]
        graphs.append((dag_id, order, edges))
    return graphs


def pipeline_svg(graphs: list[tuple[str, list[str], list[tuple[str, str]]]], asset_uri: str) -> str:
    """Both DAGs' tasks left to right in topological order, one box per DAG around its tasks, and the
    asset between them. Edges that skip a task (``send → store`` beside ``wait → store``) arc above."""
    box_w, box_h, gap, pad = 170, 44, 46, 18
    nodes: list[tuple[str, str, float]] = []  # (kind, label, x)
    x = pad
    frames = []
    arcs = []
    positions: dict[tuple[str, str], float] = {}
    for i, (dag_id, order, edges) in enumerate(graphs):
        start = x
        x += pad
        for task in order:
            positions[(dag_id, task)] = x
            nodes.append(("task", task, x))
            x += box_w + gap
        x -= gap
        x += pad
        x = max(x, start + 24 + 8 * len(f"DAG {dag_id}"))  # the frame holds its own caption
        frames.append((dag_id, start, x))
        for a, b in edges:
            if order.index(b) - order.index(a) > 1:
                arcs.append((positions[(dag_id, a)], positions[(dag_id, b)]))
        if i == 0:
            x += gap
            nodes.append(("asset", asset_uri, x))
            x += box_w + 40 + gap
    width = x + pad
    height = 190
    y_box = 92
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" '
        f'viewBox="0 0 {width:.0f} {height}" font-family="sans-serif" font-size="13">',
        "<title>send → wait → store → ETL: the example DAGs esign_send_and_store and "
        "esign_post_signature_etl</title>",
        '<defs><marker id="arrow" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto">'
        '<path d="M0,0 L10,4 L0,8 z" fill="#444"/></marker></defs>',
    ]
    for dag_id, left, right in frames:
        out.append(
            f'<rect x="{left:.0f}" y="40" width="{right - left:.0f}" height="130" rx="10" '
            'fill="#f4f7fb" stroke="#7a8ca5" stroke-dasharray="5,4"/>'
        )
        out.append(
            f'<text x="{left + 10:.0f}" y="58" fill="#34495e" font-weight="bold">DAG {html.escape(dag_id)}</text>'
        )
    centers = []
    for kind, label, nx in nodes:
        w = box_w + (40 if kind == "asset" else 0)
        fill, stroke = ("#fff4d6", "#c9a227") if kind == "asset" else ("#e3f0ff", "#3b73b9")
        out.append(
            f'<rect x="{nx:.0f}" y="{y_box}" width="{w}" height="{box_h}" rx="{22 if kind == "asset" else 6}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
        )
        caption = "asset event" if kind == "asset" else "task"
        out.append(
            f'<text x="{nx + w / 2:.0f}" y="{y_box + 18}" text-anchor="middle">{html.escape(label)}</text>'
        )
        out.append(
            f'<text x="{nx + w / 2:.0f}" y="{y_box + 34}" text-anchor="middle" fill="#667" font-size="11">{caption}</text>'
        )
        centers.append((nx, nx + w))
    for (_, right), (left, _) in itertools.pairwise(centers):
        y = y_box + box_h / 2
        out.append(
            f'<line x1="{right:.0f}" y1="{y}" x2="{left - 2:.0f}" y2="{y}" stroke="#444" marker-end="url(#arrow)"/>'
        )
    for a, b in arcs:
        ax, bx = a + box_w / 2, b + box_w / 2
        out.append(
            f'<path d="M{ax:.0f},{y_box} C{ax:.0f},{y_box - 26} {bx:.0f},{y_box - 26} {bx:.0f},{y_box - 2}" '
            'fill="none" stroke="#444" stroke-dasharray="3,3" marker-end="url(#arrow)"/>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_if_changed(path: Path, text: str) -> None:
    """Unchanged files keep their time stamp, so Sphinx does not rebuild every page each run."""
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def generate(app: Any = None) -> None:
    GENERATED.mkdir(exist_ok=True)
    for name, text in benchmark_pages().items():
        write_if_changed(GENERATED / name, text)
    from airflow_provider_esign.assets import SIGNED_DOCUMENTS_URI

    write_if_changed(GENERATED / "pipeline.svg", pipeline_svg(example_task_graphs(), SIGNED_DOCUMENTS_URI))


# --------------------------------------------------------------------------------------------------
# Templated fields in the reference
# --------------------------------------------------------------------------------------------------
def add_templated_fields(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    fields = getattr(obj, "template_fields", None) if what == "class" else None
    if not fields:
        return
    lines.append("")
    lines.append("**Templated fields**: " + ", ".join(f"``{f}``" for f in fields) + ".")


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    app.connect("autodoc-process-docstring", add_templated_fields)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
