"""An upload or post, read by the detectors (G7, P1): the body the inspection window
held → its parts' text → findings, plus whatever could not be read. Pure: the gateway
passes the bytes, the headers and the rules in, and decides on the result with the
policy (a content-phase decision on the finding kinds)."""

from __future__ import annotations

from dataclasses import dataclass

from webwarden.inspection.bodies import extract_parts
from webwarden.inspection.dlp import DlpRules, match_logo, scan_text
from webwarden.model.finding import Finding


@dataclass(frozen=True, slots=True)
class UploadReading:
    """What the detectors made of one body. `unread`: the parts (or the rest of the body)
    that could not be read, in words; the policy's `past_window` says what that means."""

    findings: tuple[Finding, ...]
    unread: tuple[str, ...]

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(f.kind for f in self.findings)


def read_upload(
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    *,
    rules: DlpRules,
    limit: int,
    overflowed: bool = False,
) -> UploadReading:
    """Run every detector over every readable part of `body` (the first `limit` bytes of
    the upload; `overflowed` says there was more)."""
    findings: list[Finding] = []
    unread: list[str] = []
    for part in extract_parts(body, content_type, content_encoding, limit=limit):
        if part.error is not None:
            unread.append(f"{part.where}: {part.error}")
        if part.text:
            findings.extend(scan_text(part.text, rules, part.where))
        if part.raw is not None and rules.logos:
            logo = match_logo(part.raw, rules, part.where)
            if logo is not None:
                findings.append(logo)
        if part.truncated and part.error is None:
            unread.append(f"{part.where}: only its beginning could be read")
    if overflowed:
        unread.append(f"the upload is larger than the {limit:,} bytes the gateway reads")
    return UploadReading(tuple(findings), tuple(unread))


def describe_findings(findings: tuple[Finding, ...], most: int = 6) -> str:
    """The findings in words for a page or a record: what and where, with the masked
    excerpt (never the value in full)."""
    words = [
        f"{f.label} in {f.where}" if not f.excerpt or f.excerpt in f.label
        else f"{f.label} ({f.excerpt}) in {f.where}"
        for f in findings[:most]
    ]
    if len(findings) > most:
        words.append(f"and {len(findings) - most} more")
    return "; ".join(words)


def record_findings(findings: tuple[Finding, ...]) -> str:
    """The findings for the audit trail: kinds and places only, no excerpt."""
    seen: dict[str, list[str]] = {}
    for f in findings:
        places = seen.setdefault(f.kind, [])
        if f.where not in places:
            places.append(f.where)
    return "; ".join(f"{kind} in {', '.join(places[:3])}" for kind, places in seen.items())
