"""Shared fixtures: the shipped policy set, the demo directory, category names."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
DEMO_DIRECTORY = ROOT / "src" / "webwarden" / "data" / "demo-directory.yaml"

# Every UT1 category the shipped policies may name; kept here so that policy unit tests
# do not need the category database.
UT1_NAMES = frozenset(
    {
        "adult", "agressif", "audio-video", "bank", "blog", "chat", "child", "cryptojacking",
        "dating", "download", "drogue", "filehosting", "financial", "forums", "gambling", "games",
        "hacking", "jobsearch", "lingerie", "malware", "mixed_adult", "phishing", "press",
        "publicite", "radio", "redirector", "remote-control", "sexual_education", "shopping",
        "social_networks", "sports", "strict_redirector", "translation", "update", "vpn", "warez",
        "webmail",
    }
)


@pytest.fixture(scope="session")
def ut1_names() -> frozenset[str]:
    return UT1_NAMES
