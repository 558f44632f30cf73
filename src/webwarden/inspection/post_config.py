"""The post checker's configuration file: the organisation's names and the DLP rules.

```yaml
organisation:              # omitted: the Metropolitan Police Service
  full-name: Metropolitan Police Service
  short-names: [Met Police, the Met, MPS]
  email-domains: [met.police.uk]
  hashtags: ["#MetPolice"]
  not-names: [Met Office]  # look-alikes that name someone else
  role-titles: [police officer, PCSO]     # omitted: the shipped police titles
  numbered-ranks: [PC, DC]                # omitted: the shipped police ranks
  everyday-name: the Met   # omitted: the full name
dlp: {...}                 # DlpRules.from_mapping; omitted: the shipped rules, or with
                           # `organisation` given, every detector with its e-mail domains
```
Every mistake is reported with its line, and nothing is loaded if there is any."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from webwarden.inspection.dlp import DETECTORS, DlpRules
from webwarden.inspection.post_check import OrganisationNames
from webwarden.model.finding import ORGANISATION_EMAIL
from webwarden.sources import Located, Problem, SourceError, load_yaml_file

_TOP_KEYS = ("organisation", "dlp")
_LIST_KEYS = (
    "short-names", "email-domains", "hashtags", "not-names", "role-titles", "numbered-ranks",
)
_TEXT_KEYS = ("full-name", "everyday-name")
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")
_HASHTAG = re.compile(r"^#\w+$")


def load_post_config(path: Path) -> tuple[OrganisationNames, DlpRules]:
    """Read and validate the configuration file; raise SourceError with every problem
    (file, line and the key at fault) if anything is wrong."""
    located = load_yaml_file(path)
    return post_config_from(located)


def post_config_from(located: Located) -> tuple[OrganisationNames, DlpRules]:
    """Validate an already parsed configuration document (see `load_post_config`)."""
    data = located.data
    if not isinstance(data, dict):
        raise SourceError([located.problem((), "expected a mapping with the keys "
                                           + ", ".join(_TOP_KEYS))])
    problems = [
        located.problem((key,), f"unknown key '{key}' (expected one of: "
                        f"{', '.join(_TOP_KEYS)})")
        for key in data if key not in _TOP_KEYS
    ]
    names = OrganisationNames.default()
    if "organisation" in data:
        parsed = _organisation(located, data["organisation"], problems)
        if parsed is not None:
            names = parsed
    rules = DlpRules.default()
    if "dlp" not in data and "organisation" in data and not problems:
        rules = _rules_for(names)
    if "dlp" in data:
        try:
            rules = DlpRules.from_mapping(data["dlp"])
        except (ValueError, TypeError) as exc:
            problems.append(located.problem(("dlp",), f"dlp: {exc}"))
    if problems:
        raise SourceError(problems)
    return names, rules


def _rules_for(names: OrganisationNames) -> DlpRules:
    # Without a `dlp` section, the organisation's own e-mail domains are the ones the DLP
    # detectors look for, not the shipped force's.
    detectors = frozenset(DETECTORS)
    if not names.email_domains:
        detectors -= {ORGANISATION_EMAIL}
    return DlpRules(
        organisation=names.full_name,
        email_domains=tuple(d.lower() for d in names.email_domains),
        detectors=detectors,
    )


def _organisation(
    located: Located, section: Any, problems: list[Problem]
) -> OrganisationNames | None:
    where = ("organisation",)
    if not isinstance(section, dict):
        problems.append(located.problem(where, "'organisation' must be a mapping with at "
                                        "least 'full-name'"))
        return None
    before = len(problems)
    for key in section:
        if key not in _LIST_KEYS + _TEXT_KEYS:
            problems.append(located.problem(
                (*where, key),
                f"unknown key 'organisation.{key}' (expected one of: "
                f"{', '.join(_TEXT_KEYS + _LIST_KEYS)})",
            ))
    texts = {k: _text(located, section, k, problems) for k in _TEXT_KEYS}
    lists = {k: _list(located, section, k, problems) for k in _LIST_KEYS}
    if "full-name" not in section:
        problems.append(located.problem(where, "'organisation.full-name' is missing: the "
                                        "organisation's name in full"))
    for i, domain in enumerate(lists["email-domains"] or ()):
        if not _DOMAIN.match(domain.lower()):
            problems.append(located.problem(
                (*where, "email-domains", i),
                f"'organisation.email-domains': '{domain}' is not a domain name "
                "(like example.police.uk)",
            ))
    for i, tag in enumerate(lists["hashtags"] or ()):
        if not _HASHTAG.match(tag):
            problems.append(located.problem(
                (*where, "hashtags", i),
                f"'organisation.hashtags': '{tag}' is not a hashtag (write it with its '#', "
                "in quotes, like \"#MetPolice\")",
            ))
    if len(problems) > before:
        return None
    shipped = OrganisationNames.default()
    full_name = texts["full-name"] or ""
    return OrganisationNames(
        full_name=full_name,
        short_names=lists["short-names"] or (),
        email_domains=lists["email-domains"] or (),
        hashtags=lists["hashtags"] or (),
        not_names=lists["not-names"] or (),
        role_titles=(
            lists["role-titles"] if "role-titles" in section else shipped.role_titles
        ) or (),
        numbered_ranks=(
            lists["numbered-ranks"] if "numbered-ranks" in section else shipped.numbered_ranks
        ) or (),
        everyday_name=texts["everyday-name"] or full_name,
    )


def _text(
    located: Located, section: dict[str, Any], key: str, problems: list[Problem]
) -> str | None:
    if key not in section:
        return None
    value = section[key]
    if not isinstance(value, str) or not value.strip():
        problems.append(located.problem(("organisation", key),
                                        f"'organisation.{key}' must be a non-empty text"))
        return None
    return value.strip()


def _list(
    located: Located, section: dict[str, Any], key: str, problems: list[Problem]
) -> tuple[str, ...] | None:
    if key not in section:
        return None
    value = section[key]
    if not isinstance(value, list):
        problems.append(located.problem(("organisation", key),
                                        f"'organisation.{key}' must be a list of texts"))
        return None
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            problems.append(located.problem(
                ("organisation", key, i),
                f"'organisation.{key}' item {i + 1} must be a non-empty text, not {item!r}",
            ))
            continue
        out.append(item.strip())
    return tuple(out)
