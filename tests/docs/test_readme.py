"""Every Python block of README.md is a DAG file Airflow can parse, as written.

Nothing is wrapped by hand. A block is either a complete file, or it is marked as a fragment: its
first line is ``# fragment`` and it is completed by the README's preamble, the one Python block
whose first line is ``# preamble`` (placed before the fragment, as documented next to it). Each
resulting file is parsed by a ``DagBag``: no import errors, and at least one DAG when the block
declares one (``@dag`` or ``DAG(``). Templates that need a logical date are rejected: manual Airflow 3
runs have none.

A block whose first line is ``# file: <path>`` is a file of an example project (docs/howto/testing-with-
the-sandbox.md): all of them are written to a fresh folder at their paths and ``pytest`` runs there in a
subprocess, exactly as a reader would copy them; only those under ``dags/`` are DAG files.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).parents[2] / "README.md"
FRAGMENT = "# fragment"
PROJECT_FILE = "# file: "
PREAMBLE = "# preamble"
#: Template variables undefined in a manual run (``airflow dags trigger``) on Airflow 3.
LOGICAL_DATE_VARIABLES = {
    "ds",
    "ds_nodash",
    "ts",
    "ts_nodash",
    "ts_nodash_with_tz",
    "logical_date",
    "execution_date",
    "data_interval_start",
    "data_interval_end",
    "prev_ds",
    "next_ds",
}


def logical_date_template(code: str) -> str | None:
    """The first ``{{ ... }}`` whose expression reads a logical-date variable (filters are fine:
    ``{{ dag_run.run_after | ds }}`` formats a date that always exists)."""
    for match in re.finditer(r"\{\{(.*?)\}\}", code):
        expression = match.group(1).split("|", 1)[0]
        names = set(re.findall(r"(?<![.\w])([A-Za-z_]\w*)", expression))
        if names & LOGICAL_DATE_VARIABLES:
            return match.group(0)
    return None


def python_blocks(text: str) -> list[tuple[int, str]]:
    """``(line number, code)`` of every fenced ```python block."""
    blocks, lines = [], text.splitlines()
    start = None
    for number, line in enumerate(lines, 1):
        if start is None and line.strip() == "```python":
            start = number
        elif start is not None and line.strip() == "```":
            blocks.append((start, "\n".join(lines[start : number - 1]) + "\n"))
            start = None
    assert start is None, f"README.md: the ```python block at line {start} is never closed"
    return blocks


BLOCKS = python_blocks(README.read_text())
#: The blocks that are DAG files (a project file outside ``dags/`` is run by pytest instead).
DAG_BLOCKS = [
    (line, code)
    for line, code in BLOCKS
    if not code.startswith(PROJECT_FILE) or code.startswith(PROJECT_FILE + "dags/")
]


def as_file(code: str) -> str:
    """The block as a DAG file: itself, or the preamble followed by the fragment."""
    if not code.startswith(FRAGMENT):
        return code
    preambles = [block for _, block in BLOCKS if block.startswith(PREAMBLE)]
    assert len(preambles) == 1, "a fragment needs exactly one '# preamble' block in README.md"
    return preambles[0] + "\n" + code


def parse(tmp_path: pathlib.Path, source: str):
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag

    path = tmp_path / "readme_block.py"
    path.write_text(source)
    # safe_mode=False: import every block, even one without the words "airflow" and "dag" in it.
    return DagBag(dag_folder=str(path), safe_mode=False)  # LOAD_EXAMPLES is off in tests/conftest.py


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 1  # one example DAG; the other snippets live in docs/ (tests/docs/test_snippets.py)


@pytest.mark.parametrize(("line", "code"), DAG_BLOCKS, ids=[f"line-{line}" for line, _ in DAG_BLOCKS])
def test_block_is_a_dag_file_airflow_parses(tmp_path, line, code):
    bag = parse(tmp_path, as_file(code))
    assert bag.import_errors == {}, f"README.md line {line}: {bag.import_errors}"
    if re.search(r"@dag\b|\bDAG\(", code):
        assert bag.dags, f"README.md line {line}: declares a DAG but none was created (called?)"
    declared = {name for dag in bag.dags.values() for name in dag.params}
    used = set(re.findall(r"\bparams\.(\w+)\b(?!\s*\()", code))
    assert used <= declared, f"README.md line {line}: templates read undeclared params {used - declared}"


@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"line-{line}" for line, _ in BLOCKS])
def test_block_templates_work_without_a_logical_date(line, code):
    found = logical_date_template(code)
    assert found is None, f"README.md line {line}: {found!r} is undefined in a manual run"


def test_example_dags_template_without_a_logical_date():
    for path in sorted((README.parent / "example_dags").glob("*.py")):
        found = logical_date_template(path.read_text())
        assert found is None, f"{path.name}: {found!r} is undefined in a manual run"


def test_the_checker_catches_what_it_should(tmp_path):
    """The failures the issue found: a fragment without imports, a DAG never called, a template
    reading a logical date (the param check is exercised by the README blocks themselves)."""
    assert parse(tmp_path, "send = SendDocumentOperator(task_id='send')\n").import_errors
    uncalled = "import pendulum\nfrom airflow.sdk import dag\n\n\n@dag(schedule=None)\ndef etl():\n    pass\n"
    assert not parse(tmp_path, uncalled).dags
    assert logical_date_template('document_name="NDA {{ ds }}"') == "{{ ds }}"
    assert logical_date_template('x="{{ logical_date.year }}"')
    assert logical_date_template('x="{{ dag_run.run_after | ds }} {{ params.ds }}"') is None


#: The page with the example project of a DAG test against the sandbox.
TESTING_HOWTO = README.parent / "docs" / "howto" / "testing-with-the-sandbox.md"


def project_files() -> dict[str, str]:
    """``path -> code`` of the how-to's example project (the ``# file: <path>`` blocks)."""
    return {
        code.splitlines()[0][len(PROJECT_FILE) :].strip(): code
        for _, code in python_blocks(TESTING_HOWTO.read_text())
        if code.startswith(PROJECT_FILE)
    }


@pytest.mark.e2e
def test_the_dag_testing_recipe_runs_as_printed(tmp_path):
    """The how-to's "A project that runs as copied", copied as printed into an empty folder,
    passes under a plain ``pytest``: no Airflow home, no migrated database, no DAG folder set by hand
    (the plugin prepares them), and none of this suite's settings leak in."""
    files = project_files()
    assert {"conftest.py", "dags/my_dag.py", "tests/test_my_dag.py"} <= set(files)
    for path, code in files.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code)
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "PYTEST", "ESIGN"))
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "1 passed" in result.stdout
