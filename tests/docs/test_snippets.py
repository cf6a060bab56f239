"""Every code block of the README and of the docs site is checked, so no page can rot.

* ```python blocks: each is a DAG file Airflow parses as written (``DagBag``: no import errors, at
  least one DAG when the block declares one, templates read only declared params and never a
  logical date), the rules README blocks have had since tests/docs/test_readme.py; a block that
  starts with ``# fragment`` is completed by its page's ``# preamble`` block.
* The README's one example DAG is, byte for byte, ``example_dags/esign_send_and_store.py``, which
  the suite runs against the sandbox for every vendor (tests/e2e/test_example_dags_run.py).
* ```bash blocks: valid shell (``bash -n``), and every command is one the checker knows and checks:
  ``make`` targets exist in the Makefile, ``airflow`` command lines parse with Airflow's own CLI
  parser (with valid JSON for ``-c``/``--conf``), ``AIRFLOW_CONN_*`` exports are connections of a
  type this provider registers, ``python -m`` modules exist, files named exist in the repository.
"""

from __future__ import annotations

import contextlib
import io
import json
import pathlib
import re
import shlex
import subprocess
import textwrap
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.docs.test_readme import FRAGMENT, PREAMBLE, logical_date_template, parse

REPO = pathlib.Path(__file__).parents[2]
DOCS = REPO / "docs"
README = REPO / "README.md"
README_EXAMPLE = REPO / "example_dags" / "esign_send_and_store.py"


def pages() -> list[pathlib.Path]:
    found = [README]
    for path in sorted(DOCS.rglob("*.md")):
        relative = path.relative_to(DOCS)
        if relative.parts[0] not in {"_build", "_generated"}:
            found.append(path)
    return found


def fenced_blocks(text: str, language: str) -> list[tuple[int, str]]:
    """``(line number, code)`` of every fenced block in ``language`` (``python``, ``bash``)."""
    blocks, lines, start = [], text.splitlines(), None
    for number, line in enumerate(lines, 1):
        if start is None and line.strip() == f"```{language}":
            start = number
        elif start is not None and line.strip() == "```":
            # A block inside a list item is indented with it; the code itself starts at column 0.
            blocks.append((start, textwrap.dedent("\n".join(lines[start : number - 1]) + "\n")))
            start = None
    assert start is None, f"the ```{language} block at line {start} is never closed"
    return blocks


def name(path: pathlib.Path) -> str:
    return str(path.relative_to(REPO))


PYTHON = [(name(p), line, code) for p in pages() for line, code in fenced_blocks(p.read_text(), "python")]
#: A block starting ``# file: <path>`` is one file of an example project that a test runs as a
#: whole (with pytest, in a fresh folder); only such files under ``dags/`` are DAG files.
PROJECT_FILE = "# file: "
DAG_BLOCKS = [
    (page, line, code)
    for page, line, code in PYTHON
    if not code.startswith(PROJECT_FILE) or code.startswith(PROJECT_FILE + "dags/")
]
BASH = [(name(p), line, code) for p in pages() for line, code in fenced_blocks(p.read_text(), "bash")]


def test_the_docs_have_snippets_to_check():
    assert len({page for page, _, _ in PYTHON}) >= 8
    assert len(BASH) >= 8


# ------------------------------------------------------------------------------------------- Python
def as_file(page: str, code: str) -> str:
    if not code.startswith(FRAGMENT):
        return code
    preambles = [c for p, _, c in PYTHON if p == page and c.startswith(PREAMBLE)]
    assert len(preambles) == 1, f"{page}: a fragment needs exactly one '# preamble' block on its page"
    return preambles[0] + "\n" + code


@pytest.mark.parametrize(("page", "line", "code"), DAG_BLOCKS, ids=[f"{p}:{n}" for p, n, _ in DAG_BLOCKS])
def test_python_block_is_a_dag_file_airflow_parses(tmp_path, page, line, code):
    bag = parse(tmp_path, as_file(page, code))
    assert bag.import_errors == {}, f"{page} line {line}: {bag.import_errors}"
    if re.search(r"@dag\b|\bDAG\(", code):
        assert bag.dags, f"{page} line {line}: declares a DAG but none was created (called?)"
    declared = {param for dag in bag.dags.values() for param in dag.params}
    used = set(re.findall(r"\bparams\.(\w+)\b(?!\s*\()", code))
    assert used <= declared, f"{page} line {line}: templates read undeclared params {used - declared}"
    found = logical_date_template(code)
    assert found is None, f"{page} line {line}: {found!r} is undefined in a manual run"


def test_the_readme_example_is_the_example_dag_the_suite_runs():
    blocks = fenced_blocks(README.read_text(), "python")
    assert len(blocks) == 1, "the README shows one complete example DAG; the others live in docs/"
    assert blocks[0][1] == README_EXAMPLE.read_text(), (
        f"README.md's example differs from {name(README_EXAMPLE)}: copy the file into the README"
    )


def test_the_readme_is_a_front_door():
    text = README.read_text()
    assert len(text.splitlines()) <= 260
    head = "\n".join(text.splitlines()[:40])
    assert "make demo" in head and "make test" in head, "the two commands belong at the top"
    for link in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (REPO / link).exists(), f"README.md links to a missing page: {link}"


# --------------------------------------------------------------------------------------------- bash
def makefile_targets() -> set[str]:
    return set(re.findall(r"^([\w-]+):", (REPO / "Makefile").read_text(), flags=re.M))


def commands(code: str) -> list[list[str]]:
    """The block's commands as argument lists: continuation lines and quotes spanning lines are
    joined, comments dropped, ``a; b`` and ``a && b`` split."""
    result, pending = [], ""
    for line in code.splitlines():
        pending += line + "\n"
        if pending.rstrip().endswith("\\"):
            continue
        try:
            lexer = shlex.shlex(pending.replace("\\\n", " "), posix=True, punctuation_chars=";&|")
            lexer.whitespace_split = True
            lexer.commenters = "#"
            tokens = list(lexer)
        except ValueError:  # an open quote: the command goes on
            continue
        pending = ""
        current: list[str] = []
        for token in tokens:
            if token in {";", "&&", "||", "|", "&"}:
                if current:
                    result.append(current)
                current = []
            else:
                current.append(token)
        if current:
            result.append(current)
    assert not pending.strip(), f"unterminated command: {pending!r}"
    return result


def check_connection_export(assignment: str) -> None:
    from airflow_provider_esign.hooks import registry

    variable, _, value = assignment.partition("=")
    if value.lstrip().startswith("{"):
        data = json.loads(value)
        conn_type = data["conn_type"]
        assert isinstance(data.get("extra", {}), dict), f"{variable}: extra must be a JSON object"
    else:
        # The URI form as Airflow reads it: the scheme is the type ("-" for "_"), the query the extra.
        # (Parsed here rather than with Connection(uri=...), which needs a Fernet key on Airflow 3.1.)
        parts = urlsplit(value)
        conn_type = parts.scheme.replace("-", "_")
        assert parts.hostname, f"{variable}: the URI has no host"
        parse_qsl(parts.query, strict_parsing=bool(parts.query))
    assert conn_type in set(registry.conn_types()), f"{variable}: unknown connection type {conn_type!r}"


def check_airflow(args: list[str]) -> None:
    import airflow
    from airflow.cli.cli_parser import get_parser
    from packaging.version import Version

    if args[:1] == ["esign"] and Version(airflow.__version__) < Version("3.2"):
        # Provider CLI commands exist from Airflow 3.2 (the docs say so); checked on the newest Airflow.
        return

    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            get_parser().parse_args(args)
    except SystemExit as exc:
        raise AssertionError(f"`airflow {shlex.join(args)}` is not a valid Airflow command line") from exc
    for flag in ("-c", "--conf"):
        if flag in args:
            json.loads(args[args.index(flag) + 1])


def check_command(argv: list[str]) -> None:
    # `NAME=$(command ...)`: the command substituted is the one to check.
    substituted = re.fullmatch(r"[A-Za-z_]\w*=\$\((.+)", argv[0])
    if substituted:
        argv = [substituted.group(1), *argv[1:]]
    program, args = argv[0], argv[1:]
    if program == "curl":
        urls = [a for a in args if re.match(r"https?://", a)]
        assert urls, f"`{shlex.join(argv)}`: curl needs an http(s) URL"
        return
    if program == "export":
        for assignment in args:
            if assignment.startswith("AIRFLOW_CONN_"):
                check_connection_export(assignment)
        return
    if program == "make":
        targets = [a for a in args if "=" not in a and not a.startswith("-")]
        missing = set(targets) - makefile_targets()
        assert not missing, f"`make {' '.join(args)}`: no such Makefile target {missing}"
        return
    if program == "airflow":
        check_airflow(args)
        return
    if (program.endswith("python") or program.endswith("python3")) and args[:1] == ["-c"]:
        code = args[1]
        if code.count(")") > code.count("("):  # the `)` closing a `$(...)` around the pipeline
            code = code[:-1]
        compile(code, "<python -c>", "exec")
        return
    if program.endswith("python") or program.endswith("python3"):
        assert args[:1] == ["-m"], f"`{shlex.join(argv)}`: run modules with -m"
        import importlib.util

        assert importlib.util.find_spec(args[1]) is not None, f"no module {args[1]}"
        return
    if program in {"bash", "source"}:
        target = args[0]
        if not target.startswith("/"):
            assert (REPO / target).exists() or target.startswith(".venv/"), (
                f"`{program} {target}`: no such file"
            )
        return
    if program == "pip":
        assert args[0] == "install"
        for target in args[1:]:
            if target.startswith("."):  # a project in the clone (`.`, `./sandbox`): it must be one
                folder = REPO / target.split("[")[0]
                assert (folder / "pyproject.toml").exists(), f"`pip install {target}`: no project there"
        return
    known = {"git", "cd"}
    assert program in known, f"`{shlex.join(argv)}`: the snippet checker does not know {program!r}"


@pytest.mark.parametrize(("page", "line", "code"), BASH, ids=[f"{p}:{n}" for p, n, _ in BASH])
def test_bash_block_is_valid_and_every_command_checks(page, line, code):
    syntax = subprocess.run(["bash", "-n"], input=code, capture_output=True, text=True)
    assert syntax.returncode == 0, f"{page} line {line}: {syntax.stderr}"
    for argv in commands(code):
        try:
            check_command(argv)
        except (AssertionError, ValueError, KeyError) as exc:
            raise AssertionError(f"{page} line {line}: {exc}") from exc


def test_the_bash_checker_catches_what_it_should():
    with pytest.raises(AssertionError):
        check_command(["make", "nosuchtarget"])
    with pytest.raises(AssertionError):
        check_command(["airflow", "dags", "tset", "x"])
    with pytest.raises(json.JSONDecodeError):
        check_command(["airflow", "dags", "test", "x", "-c", "{'single': 'quotes'}"])
    with pytest.raises(AssertionError):
        check_command(["export", 'AIRFLOW_CONN_X={"conn_type": "docusign"}'])
    with pytest.raises(AssertionError):
        check_command(["rm", "-rf", "/"])
    with pytest.raises(AssertionError):
        check_command(["pip", "install", "./no-such-project"])
    check_command(["pip", "install", "./sandbox"])
    assert commands("a 'b\nc' # note\nd \\\n  e && f") == [["a", "b\nc"], ["d", "e"], ["f"]]
