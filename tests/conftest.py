"""Shared fixtures: the shipped policy set, the demo directory, category names."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
DEMO_DIRECTORY = ROOT / "src" / "webwarden" / "data" / "demo-directory.yaml"

# Every shipped category the policies may name (UT1's and the UK supplement's); kept here
# so that policy unit tests do not need the category database.
UT1_NAMES = frozenset(
    {
        "adult", "agressif", "audio-video", "bank", "blog", "chat", "child", "cryptojacking",
        "dating", "download", "drogue", "filehosting", "financial", "forums", "gambling", "games",
        "hacking", "jobsearch", "lingerie", "malware", "mixed_adult", "phishing", "press",
        "publicite", "radio", "redirector", "remote-control", "sexual_education", "shopping",
        "social_networks", "sports", "strict_redirector", "translation", "update", "vpn", "warez",
        "webmail",
        # the UK supplement (src/webwarden/data/uk-supplement)
        "health", "trade_unions", "counselling",
    }
)


@pytest.fixture(scope="session")
def ut1_names() -> frozenset[str]:
    return UT1_NAMES


def pytest_configure(config: pytest.Config) -> None:
    # Tests run the compiled request path when it is built (scripts/compile.py); built from
    # older sources it would test old code, so stop before running anything.
    from webwarden import compiled

    try:
        compiled.check()
    except compiled.StaleCompiledModulesError as exc:
        raise pytest.UsageError(str(exc)) from exc


def pytest_report_header() -> str:
    from webwarden import compiled

    built = compiled.compiled_modules()
    if built:
        return f"webwarden request path: compiled ({len(built)} of {len(compiled.MODULES)})"
    return "webwarden request path: sources (not compiled)"
