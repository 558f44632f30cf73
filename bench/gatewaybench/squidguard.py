"""A squidGuard database built from UT1 lists, blocking roughly what webwarden blocks.

The lists come from the tarball webwarden ships (src/webwarden/data/ut1/) or
from a folder/tarball given on the command line. Only the blocked categories are
compiled (`squidGuard -C all` turns each list into a Berkeley DB file); squidGuard
answers a blocked URL with a rewrite to the origin's /blocked page, so a blocked
request never leaves loopback.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPPED_UT1 = REPO / "src" / "webwarden" / "data" / "ut1" / "ut1.tar.xz"

# The categories the default (2013) policy blocks for a workstation: G2 (webmail, forums,
# video streaming, pornography, gambling), security threats, circumvention (proxies,
# VPNs, remote control) and software downloads (G5). squidGuard can only approximate
# the policy: it has no grants, consent notices, per-person rules or file-type checks.
DEFAULT_BLOCKED = (
    "webmail", "forums", "audio-video", "adult", "mixed_adult", "gambling",
    "malware", "phishing", "cryptojacking",
    "redirector", "strict_redirector", "vpn", "remote-control",
    "download", "warez", "hacking",
)
# Gambling is blocked under every regime (G2): the category of the block check.
SAMPLE_CATEGORY = "gambling"


@dataclass(frozen=True)
class SquidGuardDb:
    config: Path
    categories: tuple[str, ...]
    missing: tuple[str, ...]
    domains: int
    urls: int
    build_seconds: float
    sample_blocked_host: str


def _category_dirs(root: Path) -> dict[str, Path]:
    """Category name -> folder, for every folder under root holding a domains/urls list."""
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name in ("domains", "urls"):
            found.setdefault(path.parent.name, path.parent)
    return found


def unpack_lists(source: Path, work: Path) -> Path:
    """A folder in squidGuard/UT1 layout: `source` itself, or the tarball unpacked into work."""
    if source.is_dir():
        return source
    if not source.is_file():
        raise FileNotFoundError(f"UT1 lists not found: {source}")
    dest = work / "ut1"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with tarfile.open(source) as tar:
        tar.extractall(dest, filter="data")
    return dest


def _dest_name(category: str) -> str:
    # squidGuard's config grammar takes plain words as destination names.
    return re.sub(r"[^A-Za-z0-9_]", "_", category)


def _count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def _first_domain(path: Path) -> str | None:
    with open(path) as f:
        for line in f:
            host = line.strip()
            if host and not re.fullmatch(r"[\d.]+", host):
                return host
    return None


def sample_blocked_host(lists_root: Path) -> str | None:
    """A host every filtering target must block (the first gambling domain)."""
    folder = _category_dirs(lists_root).get(SAMPLE_CATEGORY)
    if folder is None or not (folder / "domains").is_file():
        return None
    return _first_domain(folder / "domains")


def render_config(db_home: Path, log_dir: Path, lists: dict[str, tuple[bool, bool]],
                  redirect_url: str) -> str:
    """squidGuard.conf: one destination per category (name -> (has domains, has urls))."""
    lines = [f"dbhome {db_home}", f"logdir {log_dir}", ""]
    for category, (has_domains, has_urls) in lists.items():
        lines.append(f"dest {_dest_name(category)} {{")
        if has_domains:
            lines.append(f"    domainlist {category}/domains")
        if has_urls:
            lines.append(f"    urllist {category}/urls")
        lines.append("}")
    blocked = " ".join(f"!{_dest_name(c)}" for c in lists)
    lines += ["", "acl {", "    default {", f"        pass {blocked} all",
              f"        redirect {redirect_url}", "    }", "}", ""]
    return "\n".join(lines)


def build_db(lists_root: Path, work: Path, categories: tuple[str, ...],
             redirect_url: str) -> SquidGuardDb:
    available = _category_dirs(lists_root)
    chosen = tuple(c for c in categories if c in available)
    missing = tuple(c for c in categories if c not in available)
    if not chosen:
        raise RuntimeError(f"none of the categories {', '.join(categories)} found under "
                           f"{lists_root}")
    d = work / "squidguard"
    if d.exists():
        shutil.rmtree(d)
    db_home, log_dir = d / "db", d / "log"
    log_dir.mkdir(parents=True)
    lists: dict[str, tuple[bool, bool]] = {}
    n_domains = n_urls = 0
    for category in chosen:
        target = db_home / category
        target.mkdir(parents=True)
        flags = []
        for name in ("domains", "urls"):
            src = available[category] / name
            count = _count_lines(src) if src.is_file() else 0
            # squidGuard refuses empty lists, so they are left out of the config.
            if count:
                shutil.copyfile(src, target / name)
            flags.append(bool(count))
            if name == "domains":
                n_domains += count
            else:
                n_urls += count
        lists[category] = (flags[0], flags[1])
    sample = sample_blocked_host(lists_root)
    if sample is None:
        raise RuntimeError(f"no {SAMPLE_CATEGORY} domain to check squidGuard with")
    config = d / "squidGuard.conf"
    config.write_text(render_config(db_home, log_dir, lists, redirect_url))
    started = time.monotonic()
    subprocess.run(["squidGuard", "-c", str(config), "-C", "all"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)
    took = time.monotonic() - started
    return SquidGuardDb(config=config, categories=chosen, missing=missing, domains=n_domains,
                        urls=n_urls, build_seconds=took, sample_blocked_host=sample)


def decides_blocked(db: SquidGuardDb, url: str) -> bool:
    """Ask squidGuard directly (url_rewrite protocol on stdin) whether it blocks url."""
    line = f"{url} 127.0.0.1/- - GET -\n"
    out = subprocess.run(["squidGuard", "-c", str(db.config)], input=line, text=True,
                         capture_output=True, check=True, timeout=120).stdout
    return out.startswith("OK") and ("url=" in out)
