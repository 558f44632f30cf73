"""`webwarden squid-helper` driven the way Squid drives a url_rewrite_program: request
lines on a pipe, one answer per line, in order, each flushed before the next line comes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from webwarden.categories.shipped import shipped_category_names


def small_snapshot(folder: Path) -> Path:
    """A list set with every category the shipped policies name, one test host each."""
    lists = folder / "ut1"
    for name in shipped_category_names():
        (lists / name).mkdir(parents=True)
        (lists / name / "domains").write_text(f"{name}.test\n")
    (lists / "webmail" / "domains").write_text("mail.test\n")
    (lists / "bank" / "domains").write_text("bank.test\n")
    snapshot = folder / "small.wwcat"
    subprocess.run([sys.executable, "-m", "webwarden", "categories", "build", "--source",
                    f"ut1:{lists}", "--output", str(snapshot)], check=True, capture_output=True)
    return snapshot


@pytest.fixture
def helper(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "WEBWARDEN_STATE_DIR": str(tmp_path / "state")}
    process = subprocess.Popen(
        [sys.executable, "-m", "webwarden", "squid-helper", "--categories",
         str(small_snapshot(tmp_path)), "--block-url", "http://gw.test/blocked"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )
    yield process
    process.kill()
    process.wait()


def ask(process: subprocess.Popen[str], line: str) -> str:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(line + "\n")
    process.stdin.flush()
    return process.stdout.readline().rstrip("\n")


def test_answers_line_by_line(helper: subprocess.Popen[str]) -> None:
    assert ask(helper, "http://news.test/ 127.0.0.1/- pc1001 GET myip=127.0.0.1 myport=3128") == (
        "ERR"
    )
    blocked = ask(helper, "3 http://mail.test/inbox 127.0.0.1/- pc1001 GET")
    assert blocked.startswith('3 OK status=302 url="http://gw.test/blocked?')
    assert "rule=block-webmail" in blocked
    assert "effect=notice" in ask(helper, "bank.test:443 127.0.0.1/- pc1001 CONNECT")
    assert "rule=sign-in-required" in ask(helper, "http://news.test/ 127.0.0.1/- - GET")
    assert ask(helper, "4 nonsense").startswith("4 BH message=")
    # still answering after a bad line
    assert ask(helper, "http://news.test/ 127.0.0.1/- pc1001 GET") == "ERR"
