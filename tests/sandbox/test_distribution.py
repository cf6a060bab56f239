"""The emulator is its own distribution (``esign-sandbox`` in ``sandbox/``): it imports only the standard
library, itself and the dependencies its ``pyproject.toml`` declares, never the provider; its pytest
plugin works where Airflow is not installed; and CI's check of the provider's wheel
(``.ci/check_provider_wheel.py``) finds any emulator module in it."""

from __future__ import annotations

import ast
import os
import pathlib
import re
import subprocess
import sys
import textwrap
import zipfile

import pytest

tomllib = pytest.importorskip("tomllib")

PROJECT = pathlib.Path(__file__).resolve().parents[2] / "sandbox"
PACKAGE = PROJECT / "esign_sandbox"
#: Imported only by the opt-in pytest plugin: pytest (the ``pytest`` extra) and, inside a fixture, Airflow.
PLUGIN_ONLY = {"pytest", "airflow"}


def imports(path: pathlib.Path) -> list[tuple[str, bool]]:
    """``(top-level name, at module level)`` of every absolute import in ``path``."""
    tree = ast.parse(path.read_text())
    module_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(name.split(".")[0], id(node) in module_level) for name in names]
    return found


def requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


def test_the_package_imports_only_what_its_distribution_declares():
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    declared = requirement_names(project["dependencies"])
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 30  # the walk really found the package
    third_party: dict[str, set[str]] = {}
    for path in modules:
        for name, _ in imports(path):
            if name not in sys.stdlib_module_names and name not in {"esign_sandbox", "__future__"}:
                third_party.setdefault(name, set()).add(str(path.relative_to(PACKAGE)))
    assert "airflow_provider_esign" not in third_party, "the emulator must not import the provider"
    assert set(third_party) - PLUGIN_ONLY == declared, "sandbox/pyproject.toml dependencies != imports"
    for name in PLUGIN_ONLY & set(third_party):
        assert third_party[name] == {"pytest_plugin.py"}, f"{name} imported outside the plugin"
    assert requirement_names(project["optional-dependencies"]["pytest"]) == {"pytest"}


def test_the_plugin_imports_airflow_only_where_it_migrates_the_database():
    at_module_level = [name for name, top in imports(PACKAGE / "pytest_plugin.py") if top]
    assert "airflow" not in at_module_level


def test_the_plugin_works_without_airflow(tmp_path):
    """A project with no Airflow: the plugin prepares no Airflow home, and its fixtures still give a
    running sandbox. Airflow is made unimportable in the child (``sys.modules["airflow"] = None``)."""
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["esign_sandbox.pytest_plugin"]\n')
    (tmp_path / "test_no_airflow.py").write_text(
        textwrap.dedent(
            """
            import os
            import sys
            import urllib.request


            def test_fixtures_without_airflow(esign_connections):
                assert sys.modules["airflow"] is None  # still blocked: nothing imported it
                assert "AIRFLOW_HOME" not in os.environ  # no throw-away home was prepared
                assert os.environ["AIRFLOW_CONN_ESIGNBASE_DEFAULT"]
                with urllib.request.urlopen(esign_connections.url + "/_sandbox/health") as answer:
                    assert answer.status == 200
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTEST", "ESIGN"))}
    runner = (
        "import sys; sys.modules['airflow'] = None; import pytest; "
        "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', 'test_no_airflow.py']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", runner], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "1 passed" in result.stdout


def load_wheel_check():
    """``.ci/check_provider_wheel.py``, the check CI runs on the built provider wheel."""
    import importlib.util

    path = PROJECT.parent / ".ci" / "check_provider_wheel.py"
    spec = importlib.util.spec_from_file_location("check_provider_wheel", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_wheel_check_finds_an_emulator_in_a_provider_wheel(tmp_path):
    check = load_wheel_check()

    def wheel(name: str, files: dict[str, str]) -> str:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            for member, text in files.items():
                archive.writestr(member, text)
        return str(path)

    clean = wheel("clean.whl", {"airflow_provider_esign/hooks/base.py": "import httpx\n"})
    assert check.emulator_parts(clean) == []
    assert check.main([clean]) == 0
    for files in (
        {"airflow_provider_esign/sandbox/app.py": ""},
        {"esign_sandbox/__init__.py": ""},
        {"airflow_provider_esign/testing/emu.py": 'router = APIRouter(prefix="/_sandbox")\n'},
        {"airflow_provider_esign/demo.py": "from esign_sandbox import Sandbox\n"},
    ):
        bad = wheel("bad.whl", files)
        assert check.emulator_parts(bad), files
        assert check.main([bad]) == 1
