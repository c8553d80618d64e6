"""The configuration reference is complete: every FORUM_* variable the code reads from the
environment is in the README's configuration table and in .env.example, and neither names a
variable the code does not read.

The code is read, not imported: every `env.get("…")`, `os.environ["…"]`, `os.getenv("…")`,
`"…" in os.environ`, or a helper called with the environment and a name, in forum/, deploy/
and wsgi.py, and `$(FORUM_…)` / `${FORUM_…}` in the Makefile.
"""

import ast
import os
import re
import secrets
import subprocess
from pathlib import Path

import pytest

from forum.config import EXAMPLE_SECRET_KEY, ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
# What the environment is called in the code: env, environ, os.environ, self.env, os.getenv …
ENVIRONMENT = re.compile(r"(^|\.)(env|environ|environment|getenv)$")
# Read from the environment by libraries, not by our code: boto3's credentials.
LIBRARY_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def _is_environment(node: ast.AST) -> bool:
    return ENVIRONMENT.search(ast.unparse(node)) is not None


def _names(nodes) -> set[str]:
    return {n.value for n in nodes
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and NAME.match(n.value)}


def names_read_in_python(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            # env.get("X"), os.environ.pop("X"), os.getenv("X"), _int(env, "X", 5)
            func = node.func
            receiver = func.value if isinstance(func, ast.Attribute) else func
            if _is_environment(receiver) or _is_environment(func):
                found |= _names(node.args[:1])  # the name; the default is not a variable
            elif any(_is_environment(arg) for arg in node.args):
                found |= _names(node.args)
        elif isinstance(node, ast.Subscript) and _is_environment(node.value):
            found |= _names([node.slice])  # os.environ["X"]
        elif isinstance(node, ast.Compare) and any(_is_environment(c) for c in node.comparators):
            found |= _names([node.left])  # "X" in os.environ
    return found


def names_read_by_the_code() -> set[str]:
    files = [ROOT / "wsgi.py", ROOT / "migrations" / "env.py",
             *sorted((ROOT / "forum").rglob("*.py")), *sorted((ROOT / "deploy").rglob("*.py"))]
    found: set[str] = set()
    for path in files:
        found |= names_read_in_python(path.read_text(encoding="utf-8"))
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    found |= set(re.findall(r"\$\$?[({]{1,2}(FORUM_[A-Z0-9_]+)", makefile))
    return found


def readme_table() -> set[str]:
    """The variables named in the first column of the table under "## Configuration"."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            first = line.split("|")[1]
            names |= {n for n in re.findall(r"`([^`]+)`", first) if NAME.match(n)}
    return names


def env_example() -> set[str]:
    """Every variable .env.example sets, or names in a commented-out line `# NAME=…`."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^(?:#\s*)?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def forum_names() -> set[str]:
    return {n for n in names_read_by_the_code() if n.startswith("FORUM_")}


def test_the_collector_finds_every_way_of_reading_the_environment():
    source = """
import os
from os import environ
a = env.get("FORUM_A", "INFO")          # the default is not a variable
b = int(os.environ.get("FORUM_B") or 0)
c = os.environ["FORUM_C"]
d = os.getenv("FORUM_D")
e = "FORUM_E" in os.environ
f = _int(env, "FORUM_F", 5)
g = environ.get("FORUM_G")
h = {"FORUM_H": 1}                       # a config key, not a read
i = app.config["FORUM_I"]                # a config key, not a read
j = self.env.get("FORUM_J")
"""
    assert names_read_in_python(source) == {f"FORUM_{x}" for x in "ABCDEFGJ"}
    assert {"FORUM_ENV", "FORUM_SECRET_KEY", "FORUM_MAIL_FORM_LIMIT"} <= forum_names()
    assert "FORUM_PASSWORD_HASH_METHOD" not in forum_names()  # a config key, set in code
    assert "SOCKETIO_MESSAGE_QUEUE" in names_read_by_the_code()


def test_every_forum_variable_is_in_the_readme_table():
    table = readme_table()
    assert len(table) > 20  # the table was found and read
    missing = sorted(forum_names() - table)
    assert not missing, f"read by the code, missing from the README configuration table: {missing}"


def test_every_forum_variable_is_in_env_example():
    missing = sorted(forum_names() - env_example())
    assert not missing, f"read by the code, missing from .env.example: {missing}"


def test_the_readme_table_and_env_example_name_only_variables_the_code_reads():
    read = names_read_by_the_code()
    assert not sorted(readme_table() - read), "in the README table, never read by the code"
    assert not sorted(env_example() - read - LIBRARY_VARIABLES), "in .env.example, never read"


def load_env_example_in_sh() -> dict[str, str]:
    """What a POSIX shell exports after `set -a; . ./.env.example`, from a clean environment."""
    result = subprocess.run(["sh", "-c", "set -a; . ./.env.example; set +a; env -0"],
                            cwd=ROOT, env={"PATH": os.defpath}, capture_output=True,
                            timeout=30, check=False)
    assert result.returncode == 0 and not result.stderr, result.stderr.decode()
    pairs = (item.split("=", 1) for item in result.stdout.decode("utf-8").split("\0") if item)
    return dict(pairs)


def test_env_example_loads_in_a_posix_shell():
    env = load_env_example_in_sh()
    assert env["FORUM_SITE_NAME"] == "Forum Współpracy JST"
    assert env["FORUM_CONTROLLER"] == "Name and address of the data controller"
    assert env["FORUM_ENV"] == "production" and env["FORUM_MAIL_PASSWORD"] == ""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assigned = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    assert assigned and assigned <= env.keys()  # every uncommented line came through
    assert not (env.keys() & (env_example() - assigned))  # commented ones stay unset


def test_env_example_secret_is_a_placeholder_refused_in_production(tmp_path):
    env = load_env_example_in_sh()
    assert env["FORUM_SECRET_KEY"] == EXAMPLE_SECRET_KEY
    with pytest.raises(ConfigError, match="example value"):
        load_config(str(tmp_path), env=env)
    config = load_config(str(tmp_path), env={**env, "FORUM_SECRET_KEY": secrets.token_hex(32)})
    assert config["FORUM_SITE_NAME"] == "Forum Współpracy JST"
    assert config["FORUM_STORAGE_ROOT"] == "/var/lib/forum/uploads"
