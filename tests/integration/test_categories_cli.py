"""`webwarden categories ...` run as a real command: the shipped lists straight after
installation, builds from small lists, and `update` against a local HTTP server."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

WEBWARDEN = shutil.which("webwarden", path=str(Path(sys.executable).parent))


def run(
    *args: str, state: Path, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["WEBWARDEN_STATE_DIR"] = str(state)
    command = (
        [WEBWARDEN]
        if WEBWARDEN
        else [sys.executable, "-c", "import sys; from webwarden.cli import main; sys.exit(main())"]
    )
    done = subprocess.run(
        [*command, "categories", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def shipped_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state dir whose default snapshot is built once from the shipped UT1 lists."""
    state = tmp_path_factory.mktemp("state")
    done = run("build", state=state)
    assert "40 categories" in done.stdout  # 37 UT1 + 3 UK supplement
    assert "wrote" in done.stdout
    return state


def test_lookup_with_shipped_lists(shipped_state: Path) -> None:
    urls = [
        "http://www.PokerStars.com/",
        "https://bnpparibas.net/login",
        "http://unlisted.example.invalid/",
        "128.104.21.149/~cozzi/notes.html",
        "http://128.104.21.149/other",
    ]
    done = run("lookup", *urls, state=shipped_state)
    assert done.stdout.splitlines() == [
        "http://www.PokerStars.com/\tgambling",
        "https://bnpparibas.net/login\tbank",
        "http://unlisted.example.invalid/\tnone",
        "128.104.21.149/~cozzi/notes.html\tdrogue",
        "http://128.104.21.149/other\tnone",
    ]
    assert done.stderr == ""


def test_lookup_from_stdin_keeps_going_past_bad_urls(shipped_state: Path) -> None:
    lines = "winamax.fr\nhttp://bad host/\n\nhttps://www.creditmutuel.fr:443/x\n"
    done = run("lookup", "-", state=shipped_state, stdin=lines, check=False)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "winamax.fr\tgambling",
        "https://www.creditmutuel.fr:443/x\tbank",
    ]
    assert "http://bad host/: character ' ' not allowed in a host name" in done.stderr
    assert "1 URL(s) could not be looked up" in done.stderr


def test_stats_of_shipped_lists(shipped_state: Path) -> None:
    done = run("stats", state=shipped_state)
    assert "source    shipped UT1 lists" in done.stdout
    gambling = next(line for line in done.stdout.splitlines() if line.startswith("gambling "))
    assert gambling.split()[1:] == ["32,247", "5"]
    assert "40 categories" in done.stdout  # 37 UT1 + 3 UK supplement


@pytest.fixture
def lists(tmp_path: Path) -> Path:
    root = tmp_path / "lists"
    for category, domains, urls in [
        ("gambling", "casino.example\nbad entry\n", "example.org/bet\n"),
        ("bank", "bank.example\n", ""),
    ]:
        (root / "ut1" / category).mkdir(parents=True)
        (root / "ut1" / category / "domains").write_text(domains)
        (root / "ut1" / category / "urls").write_text(urls)
    (root / "hosts").write_text("127.0.0.1 localhost\n0.0.0.0 ads.example\n")
    (root / "learning.txt").write_text("# ours\ncourses.example\n")
    return root


def test_build_from_several_sources_then_lookup_with_overrides(tmp_path: Path, lists: Path) -> None:
    snapshot = tmp_path / "out" / "mine.wwcat"
    rejections = tmp_path / "rejections.tsv"
    done = run(
        "build",
        "--source",
        f"ut1:{lists / 'ut1'}",
        "--hosts",
        f"{lists / 'hosts'}:publicite",
        "--list",
        f"{lists / 'learning.txt'}:elearning",
        "--output",
        str(snapshot),
        "--rejections",
        str(rejections),
        state=tmp_path / "state",
    )
    assert "1 lines rejected" in done.stdout
    assert "contains whitespace" in done.stdout
    assert f"wrote {snapshot}" in done.stdout
    rows = rejections.read_text().splitlines()
    assert rows[0] == "kind\tsource\tline\treason\ttext"
    assert rows[1].startswith("rejected\t") and rows[1].endswith(
        "\t2\tcontains whitespace (one entry per line)\tbad entry"
    )
    assert any(r.startswith("adjusted\t") and "localhost" in r for r in rows)

    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("set:\n  courses.example: [elearning, training]\n")
    done = run(
        "lookup",
        "--snapshot",
        str(snapshot),
        "--overrides",
        str(overrides),
        "www.casino.example",
        "example.org/bet?x",
        "ads.example",
        "courses.example",
        state=tmp_path / "state",
    )
    assert done.stdout.splitlines() == [
        "www.casino.example\tgambling",
        "example.org/bet?x\tgambling",
        "ads.example\tpublicite",
        "courses.example\telearning,training",
    ]
    assert not (tmp_path / "state").exists()  # an explicit snapshot needs no default one


def test_build_strict_and_bad_input_write_nothing(tmp_path: Path, lists: Path) -> None:
    snapshot = tmp_path / "strict.wwcat"
    done = run(
        "build",
        "--source",
        f"ut1:{lists / 'ut1'}",
        "--output",
        str(snapshot),
        "--strict",
        state=tmp_path,
        check=False,
    )
    assert done.returncode == 1
    assert "nothing written (--strict)" in done.stderr
    assert not snapshot.exists()

    for args, message in [
        (["--source", "squid:/x"], "expected ut1:PATH"),
        (["--source", f"ut1:{tmp_path / 'missing'}"], "does not exist"),
        (["--list", f"{lists / 'learning.txt'}:Bad"], "bad category name"),
        (["--list", "nocategory"], "expected FILE:CATEGORY"),
    ]:
        done = run("build", *args, "--output", str(snapshot), state=tmp_path, check=False)
        assert done.returncode == 1
        assert message in done.stderr
        assert done.stderr.startswith("webwarden categories build: error:")
        assert not snapshot.exists()

    overrides = tmp_path / "o.yaml"
    overrides.write_text("remove:\n  x.example: [gamblign]\n")
    done = run(
        "build",
        "--source",
        f"ut1:{lists / 'ut1'}",
        "--overrides",
        str(overrides),
        "--output",
        str(snapshot),
        state=tmp_path,
        check=False,
    )
    assert done.returncode == 1
    assert f"{overrides}:2: remove: unknown category 'gamblign'" in done.stderr
    assert not snapshot.exists()


def test_lookup_with_missing_or_corrupt_snapshot(tmp_path: Path) -> None:
    done = run(
        "lookup",
        "--snapshot",
        str(tmp_path / "none.wwcat"),
        "x.example",
        state=tmp_path,
        check=False,
    )
    assert done.returncode == 1
    assert "no such snapshot" in done.stderr
    corrupt = tmp_path / "corrupt.wwcat"
    corrupt.write_bytes(b"WWCATIDX" + bytes(500))
    done = run("stats", "--snapshot", str(corrupt), state=tmp_path, check=False)
    assert done.returncode == 1
    assert "corrupt" in done.stderr


# update ------------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path, lists: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server on 127.0.0.1 serving a small UT1 archive and a broken one."""
    public = tmp_path / "public"
    public.mkdir()
    with tarfile.open(public / "blacklists.tar.gz", "w:gz") as tar:
        tar.add(lists / "ut1", arcname="blacklists")
    (public / "broken.tar.gz").write_bytes((public / "blacklists.tar.gz").read_bytes()[:100])
    handler = functools.partial(_QuietHandler, directory=str(public))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", public
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_update_installs_a_downloaded_archive(tmp_path: Path, served: tuple[str, Path]) -> None:
    base, public = served
    state = tmp_path / "state"
    digest = hashlib.sha256((public / "blacklists.tar.gz").read_bytes()).hexdigest()
    done = run("update", f"{base}/blacklists.tar.gz", "--sha256", digest, state=state)
    default = state / "categories" / "current.wwcat"
    assert f"installed {default}" in done.stdout
    # `lookup` without options now answers from the downloaded lists.
    done = run("lookup", "casino.example", "pokerstars.com", state=state)
    assert done.stdout.splitlines() == ["casino.example\tgambling", "pokerstars.com\tnone"]
    assert "UT1 archive from http://127.0.0.1" in run("stats", state=state).stdout
    before = default.read_bytes()

    for args, message in [
        ([f"{base}/missing.tar.gz"], "HTTP 404"),
        ([f"{base}/broken.tar.gz"], "not a readable tar archive"),
        ([f"{base}/blacklists.tar.gz", "--sha256", "0" * 64], "SHA-256 is"),
        ([f"{base}/blacklists.tar.gz", "--max-bytes", "10"], "--max-bytes"),
        (["ftp://127.0.0.1/x.tar.gz"], "only http:// and https://"),
        (["http://127.0.0.1:9/x.tar.gz", "--timeout", "5"], "download failed"),
    ]:
        done = run("update", *args, state=state, check=False)
        assert done.returncode == 1, args
        assert message in done.stderr, (args, done.stderr)
        assert default.read_bytes() == before
        leftovers = [
            p.name
            for p in default.parent.iterdir()
            if p.name.startswith(".") and p.name != ".build.lock"
        ]
        assert leftovers == []
