"""The organisation's e-mail addresses: any address at one of its domains or their
sub-domains (jane.bloggs@met.police.uk, j.b@digital.met.police.uk)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from webwarden.inspection.dlp.masking import mask_email
from webwarden.inspection.dlp.rules import DlpRules
from webwarden.inspection.dlp.views import Hit, TextView, find_all
from webwarden.model.finding import ORGANISATION_EMAIL

_DOMAIN: Final = re.compile(
    r"@(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+)(?![A-Za-z0-9-])"
)
_LOCAL: Final = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+\Z")
_LONGEST_LOCAL: Final = 64


def find_emails(view: TextView, rules: DlpRules) -> list[Hit]:
    """Addresses at the organisation's domains, shown as "j•••@met.police.uk"."""
    if "@" not in view.text:
        return []
    lower = view.lower
    # Every address at a domain or a sub-domain holds the domain itself: most texts with an
    # "@" are spared the address parsing.
    if not any(domain.encode("ascii") in lower for domain in rules.email_domains):
        return []
    return list(_emails(view, rules))


def _emails(view: TextView, rules: DlpRules) -> Iterator[Hit]:
    text = view.text
    suffixes = tuple("." + domain for domain in rules.email_domains)
    for at in find_all(view.raw, b"@"):
        match = _DOMAIN.match(text, at)
        if match is None:
            continue
        domain = match.group("domain").lower()
        if domain not in rules.email_domains and not domain.endswith(suffixes):
            continue
        local_match = _LOCAL.search(text, max(0, at - _LONGEST_LOCAL), at)
        if local_match is None:
            continue
        local = local_match.group().lstrip(".")
        if not local:
            continue
        start = at - len(local)
        yield Hit(
            start, match.end(), ORGANISATION_EMAIL, "organisation e-mail address",
            mask_email(local, domain), f"{local.lower()}@{domain}",
        )
