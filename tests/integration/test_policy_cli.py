"""The policy author's commands, run the way a person runs them: `webwarden policy check`,
`policy test`, `explain` and `directory`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import POLICIES, ROOT

pytestmark = pytest.mark.integration


def webwarden(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "webwarden", *args], capture_output=True,
                          text=True, input=stdin, timeout=120, check=False,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


def test_check_accepts_the_shipped_policies() -> None:
    done = webwarden("policy", "check", *(str(p) for p in sorted(POLICIES.glob("*.yaml"))))
    assert done.returncode == 0, done.stderr
    assert "regime 2009 in force from 2008-05-01" in done.stdout
    assert "regime 2013 in force from 2013-07-15" in done.stdout


def test_check_reports_every_mistake_with_its_line(tmp_path: Path) -> None:
    text = (POLICIES / "2013.yaml").read_text()
    text = text.replace("categories: [webmail]", "categories: [webmial]", 1)
    text = text.replace("effect: block", "efect: block", 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    done = webwarden("policy", "check", str(bad))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0] == "error: the policy was not loaded:"
    webmial = next(i for i, line in enumerate(text.splitlines(), 1) if "webmial" in line)
    assert any(f"bad.yaml:{webmial}: " in line and "did you mean 'webmail'" in line
               for line in lines), done.stderr
    assert any("unknown key 'efect'" in line for line in lines), done.stderr


def test_policy_test_passes_the_shipped_tables() -> None:
    tables = sorted((ROOT / "tests" / "decisions").glob("*.yaml"))
    done = webwarden("policy", "test", *(str(t) for t in tables))
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip().endswith("passed, 0 failed")


def test_policy_test_shows_a_diff_and_fails(tmp_path: Path) -> None:
    table = tmp_path / "cases.yaml"
    table.write_text(f"""\
policies: [{POLICIES / "2013.yaml"}]
defaults: {{at: 2026-03-03T10:00:00Z, device: ws-lam-0001, user: pc1001}}
cases:
  - name: webmail is allowed (it is not)
    url: http://mail.example/
    categories: [webmail]
    expect: {{effect: allow, rules: [business-and-personal-use]}}
  - name: news is allowed
    url: http://news.example/
    categories: [press]
    expect: {{effect: allow}}
""")
    done = webwarden("policy", "test", str(table))
    assert done.returncode == 1
    assert "FAIL" in done.stdout and "cases.yaml:4: webmail is allowed (it is not)" in done.stdout
    assert "- expected: allow by [business-and-personal-use]" in done.stdout
    assert "+ got:      block by [block-webmail]" in done.stdout
    assert done.stdout.strip().endswith("1 passed, 1 failed")


def test_explain_in_words_and_json() -> None:
    done = webwarden("explain", "--user", "pc1001", "--device", "ws-lam-0001",
                     "--at", "2010-03-02T10:00:00Z", "https://www.facebook.com/")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("BLOCKED: GET https://www.facebook.com/")
    assert "no-personal-social-networking (clause G9, block)" in done.stdout
    assert "regime 2009" in done.stdout
    done = webwarden("explain", "--json", "--user", "pc1001", "--device", "127.0.0.1",
                     "--at", "2026-03-03T10:00:00Z", "https://www.facebook.com/")
    data = json.loads(done.stdout)
    assert data["effect"] == "allow" and data["regime"] == "2013"
    assert data["device"] == {"id": "ws-lam-0001", "class": "workstation"}
    assert "social_networks" in data["categories"]


def test_explain_refuses_unknown_people_and_bad_urls() -> None:
    done = webwarden("explain", "--user", "nobody", "http://example.org/")
    assert done.returncode == 2 and "no person 'nobody'" in done.stderr
    done = webwarden("explain", "--user", "pc1001", "ftp://example.org/")
    assert done.returncode == 2 and "only http and https" in done.stderr


def test_directory_check_and_hash_password(tmp_path: Path) -> None:
    done = webwarden("directory", "hash-password", "--stdin", stdin="s3cret-pass\n")
    assert done.returncode == 0 and done.stdout.startswith("scrypt$")
    path = tmp_path / "people.yaml"
    path.write_text(f"people:\n  - {{id: a1, kind: staff, unit: U, password: "
                    f"'{done.stdout.strip()}'}}\ndevices: []\n")
    done = webwarden("directory", "check", str(path))
    assert done.returncode == 0 and "1 people, 0 devices" in done.stdout
    path.write_text("people:\n  - {id: a1, kind: staff, unit: U, password: hunter2}\n")
    done = webwarden("directory", "check", str(path))
    assert done.returncode == 2 and "people.yaml:2:" in done.stderr
