"""`webwarden check-post`, run the way a member of staff runs it before publishing a post:
the installed command, a post in a file or on standard input, exit codes 0, 1 and 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

# The console script installed beside the interpreter that runs the tests.
COMMAND = Path(sys.executable).with_name("webwarden")

CLEAN_POST = "Lovely walk on Hampstead Heath with the dog this morning.\nBack to nights tomorrow.\n"
BREACHING_POST = (
    "Long week.\n"
    "Proud of my team at the Met, what a f**king week\n"
)


def check_post(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(COMMAND), "check-post", *args], capture_output=True, text=True,
                          input=stdin, timeout=60, check=False,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_command_is_installed() -> None:
    assert COMMAND.exists(), f"{COMMAND} is missing: install the project into the venv"


def test_a_clean_post_from_a_file_exits_0(tmp_path: Path) -> None:
    post = write(tmp_path, "post.txt", CLEAN_POST)
    done = check_post(str(post))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{post}: clean")
    assert done.stderr == ""


def test_a_breaching_post_from_a_file_exits_1_with_line_and_column(tmp_path: Path) -> None:
    post = write(tmp_path, "post.txt", BREACHING_POST)
    done = check_post(str(post))
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert out.startswith(f"{post}: would breach the guidance on personal posts (2 findings)")
    # "the Met" is on line 2 at column 21; the masked word on line 2 at column 37.
    assert "where:   the post, line 2, column 21 (2:21)" in out
    assert 'excerpt: "the Met"' in out
    assert "where:   the post, line 2, column 37 (2:37)" in out
    assert 'excerpt: "f•••••g"' in out
    assert "f**king" not in out
    assert "advice:  Add 'views are my own' to your profile or post" in out


@pytest.mark.parametrize(("post", "code"), [(CLEAN_POST, 0), (BREACHING_POST, 1)])
def test_a_post_on_standard_input(post: str, code: int) -> None:
    done = check_post("-", stdin=post)
    assert done.returncode == code, done.stderr
    assert done.stdout.startswith("standard input: ")


def test_json_output_parses(tmp_path: Path) -> None:
    post = write(tmp_path, "post.txt", BREACHING_POST)
    done = check_post(str(post), "--json")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert data["clean"] is False and data["file"] == str(post)
    assert [(b["kind"], b["line"], b["column"], b["excerpt"]) for b in data["breaches"]] == [
        ("association-without-disclaimer", 2, 21, "the Met"),
        ("offensive-language", 2, 37, "f•••••g"),
    ]
    assert all(b["advice"].endswith(".") for b in data["breaches"])
    done = check_post("-", "--json", stdin=CLEAN_POST)
    assert done.returncode == 0
    assert json.loads(done.stdout) == {"file": "standard input", "clean": True, "breaches": []}


def test_the_profile_is_checked_with_the_post(tmp_path: Path) -> None:
    post = write(tmp_path, "post.txt", "Parkrun PB this morning!\n")
    bio = write(tmp_path, "bio.txt", "PC 1234 | Lambeth | dog person\n")
    done = check_post(str(post), "--profile", str(bio), "--json")
    assert done.returncode == 1, done.stderr
    [breach] = json.loads(done.stdout)["breaches"]
    assert (breach["where"], breach["excerpt"], breach["line"], breach["column"]) == (
        "the profile", "PC 1234", 1, 1)
    bio.write_text("PC 1234 | Lambeth | views my own\n", encoding="utf-8")
    assert check_post(str(post), "--profile", str(bio)).returncode == 0


def test_a_configured_organisation(tmp_path: Path) -> None:
    config = write(tmp_path, "post-checker.yaml",
                   "organisation:\n  full-name: Greater Manchester Police\n"
                   "  short-names: [GMP]\n  everyday-name: GMP\n")
    done = check_post("-", "--config", str(config), stdin="First week at GMP done!\n")
    assert done.returncode == 1, done.stderr
    assert "because it says you work for GMP" in done.stdout
    done = check_post("-", "--config", str(config), stdin="Proud to join the Met\n")
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["absent.txt"], None, "error: cannot read absent.txt: No such file or directory"),
        (["post.txt", "--profile", "absent.txt"], None, "error: cannot read absent.txt"),
        (["latin1.txt"], None, "error: cannot read latin1.txt: it is not UTF-8 text"),
        (["-"], "   \n", "error: standard input is empty: there is no post to check"),
        (["post.txt", "--config", "bad.yaml"], None,
         "error: the post checker configuration was not loaded:"),
        ([], None, "the following arguments are required: FILE|-"),
    ],
)
def test_usage_errors_exit_2_with_a_message(
    tmp_path: Path, args: list[str], stdin: str | None, message: str
) -> None:
    write(tmp_path, "post.txt", CLEAN_POST)
    write(tmp_path, "bad.yaml", "organisation:\n  full-name: X\n  hashtag: [GMP]\n")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 at the Met".encode("latin-1"))
    done = subprocess.run([str(COMMAND), "check-post", *args], capture_output=True, text=True,
                          input=stdin, timeout=60, check=False, cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr
    assert done.stdout == ""
    if "bad.yaml" in args:
        assert "bad.yaml:3: unknown key 'organisation.hashtag'" in done.stderr
