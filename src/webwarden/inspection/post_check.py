"""The post checker (P1): would a personal post breach the guidance on social media?

A post is checked, with the author's profile text if given, for:
- what the DLP detectors find (markings, vetting levels, personal data, the organisation's
  e-mail addresses): the guidance's rules 2, 3 and 7 on personal use;
- the author's association with the organisation disclosed without a statement that the
  views are their own (rule 5);
- offensive, harassing or discriminatory language (rule 1), by the curated word list in
  `offensive_words`.

Pure: the texts, the organisation's names and the rules are passed in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from webwarden.inspection.dlp import DlpRules, scan_text
from webwarden.inspection.offensive_words import OffensiveWords
from webwarden.model.finding import (
    ASSOCIATION_WITHOUT_DISCLAIMER,
    NHS_NUMBER,
    NI_NUMBER,
    OFFENSIVE_LANGUAGE,
    ORGANISATION_EMAIL,
    ORGANISATION_LOGO,
    PAYMENT_CARD,
    PROTECTIVE_MARKING,
    REFERENCE_PREFIX,
    UK_PHONE,
    UK_POSTCODE,
    VETTING_LEVEL,
    Finding,
)

POST = "the post"
PROFILE = "the profile"


@dataclass(frozen=True, slots=True)
class OrganisationNames:
    """How people name the organisation, and what gives away that someone works there.

    `full_name` is matched in any case. `short_names`, `not_names` and `role_titles` are
    matched as written where they have capitals ("Met Police" needs the capitals, so "I
    met police at the station" is no mention; "MPS" is not "MPs") and in any case where
    they are written in lower case ("police officer"). `not_names` are look-alikes that
    name someone else ("Met Office"): a mention inside one does not count. `email_domains`
    match as a domain or a sub-domain; `hashtags` as whole tags, in any case.
    `role_titles` disclose the author's work when the profile says them, or when the post
    says them of its author ("I'm a serving police officer"); `numbered_ranks` followed by
    a shoulder number ("PC 1234") disclose it anywhere. `everyday_name` is what the advice
    calls the organisation ("the Met")."""

    full_name: str
    short_names: tuple[str, ...] = ()
    email_domains: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    not_names: tuple[str, ...] = ()
    role_titles: tuple[str, ...] = ()
    numbered_ranks: tuple[str, ...] = ()
    everyday_name: str = ""

    @classmethod
    def default(cls) -> OrganisationNames:
        """The model customer's names: the Metropolitan Police Service."""
        return cls(
            full_name="Metropolitan Police Service",
            short_names=(
                "Metropolitan Police", "Met Police", "the Met", "MPS", "Scotland Yard",
                "New Scotland Yard",
            ),
            email_domains=("met.police.uk", "met.pnn.police.uk"),
            hashtags=("#MetPolice", "#MPS", "#TotalPolicing"),
            not_names=(
                "Met Office", "Met Gala", "Met Opera", "Met Museum", "Met Ball",
                "Met Eireann", "Met Éireann",
            ),
            role_titles=(
                "police officer", "police constable", "special constable", "police sergeant",
                "police inspector", "detective constable", "detective sergeant",
                "detective inspector", "chief inspector", "superintendent", "serving officer",
                "police staff", "PCSO", "police community support officer", "Sgt", "Sergeant",
                "Inspector", "cop", "copper", "response officer", "neighbourhood officer",
                "firearms officer", "custody officer",
            ),
            numbered_ranks=("PC", "WPC", "DC", "PS", "DS", "SPC", "PCSO", "Sgt", "Insp"),
            everyday_name="the Met",
        )

    @property
    def called(self) -> str:
        return self.everyday_name or self.full_name


@dataclass(frozen=True, slots=True)
class PostReport:
    """The verdict on one post: every breach, and for each (same order) one sentence of
    advice saying which part of the guidance it breaches and what to do."""

    breaches: tuple[Finding, ...]
    advice: tuple[str, ...] = field(default=())

    @property
    def clean(self) -> bool:
        """True when the post can be published as it is."""
        return not self.breaches


def check_post(
    text: str,
    *,
    names: OrganisationNames,
    rules: DlpRules,
    profile: str = "",
    words: OffensiveWords | None = None,
) -> PostReport:
    """Check a post (and the author's profile or bio text, if given) against the guidance
    on personal posts. `words` defaults to the shipped word list."""
    vocabulary = words if words is not None else OffensiveWords.shipped()
    breaches: list[Finding] = []
    for part, where in ((text, POST), (profile, PROFILE)):
        if part:
            breaches.extend(scan_text(part, rules, where=where))
            breaches.extend(_offensive(part, vocabulary, where))
    association = _association(text, profile, names)
    if association is not None:
        breaches.append(association)
    order = {POST: 0, PROFILE: 1}
    breaches.sort(key=lambda f: (order.get(f.where, 2), f.offset))
    return PostReport(
        breaches=tuple(breaches), advice=tuple(advice_for(f, names) for f in breaches)
    )


def advice_for(finding: Finding, names: OrganisationNames) -> str:
    """One plain sentence: which part of the guidance the finding breaches, what to do."""
    org = names.called
    shown = f" at \"{finding.excerpt}\"" if finding.excerpt else ""
    kind = finding.kind
    if kind == ASSOCIATION_WITHOUT_DISCLAIMER:
        quoted = "" if finding.excerpt.lower() == org.lower() else f" (\"{finding.excerpt}\")"
        return (
            f"Add 'views are my own' to your profile or post, because it says you work for "
            f"{org}{quoted}, and the guidance says that if you disclose that you work there "
            "you must make clear that the views are yours alone."
        )
    if kind == OFFENSIVE_LANGUAGE:
        return (
            f"Remove \"{finding.excerpt}\", because the guidance says you must not make "
            "offensive comments or harass, intimidate, bully, victimise or discriminate "
            "against anyone."
        )
    if kind == PROTECTIVE_MARKING:
        return (
            f"Remove the {finding.label}{shown} and what it marks, because the guidance says "
            "you must never reveal protectively marked or official information."
        )
    if kind == VETTING_LEVEL:
        return (
            f"Remove the {finding.label}{shown}, because the guidance says you must never "
            "reveal your own vetting level or anyone else's."
        )
    if kind == ORGANISATION_EMAIL:
        return (
            f"Remove the e-mail address{shown}, because the guidance says you must not "
            f"publish your own or anyone else's {org} e-mail address on social media."
        )
    if kind in (NI_NUMBER, NHS_NUMBER, PAYMENT_CARD, UK_PHONE, UK_POSTCODE):
        return (
            f"Remove the {finding.label}{shown}, because the guidance says you must not "
            "divulge personal data or anything you learnt through your work."
        )
    if kind == ORGANISATION_LOGO:
        return (
            f"Remove the logo, because the guidance says you must not use {org}'s logo "
            "without permission."
        )
    if kind.startswith(REFERENCE_PREFIX):
        return (
            f"Remove the {finding.label}{shown}, because it is official information and the "
            "guidance says you must not divulge official information."
        )
    return (
        f"Remove the {finding.label}{shown}, because the guidance on personal posts does not "
        "allow it."
    )


# --- offensive language -------------------------------------------------------------------


def _offensive(text: str, words: OffensiveWords, where: str) -> list[Finding]:
    return [
        Finding(
            kind=OFFENSIVE_LANGUAGE,
            label=f"offensive language: {match.term.category.replace('-', ' ')}",
            excerpt=match.masked,
            where=where,
            offset=match.start,
        )
        for match in words.find(text)
    ]


# --- association without a disclaimer -------------------------------------------------------

# Ways staff write "the views are my own" on a post or a profile, typos included. Matched in
# any case, anywhere in the post or the profile.
_VIEWS = r"(?:views?|v[ie]{2}ws?|opinions?|opinons?|thoughts?|tweets?|posts?)"
_ENDORSE = r"(?:rts?|retweets?|reposts?|shares?|likes?|follows?)"
_IS = r"(?:are|r|is|=|:|-|–|—)"
_ONLY = r"(?:(?:all|entirely|solely|strictly|purely)\s+)?"
DISCLAIMERS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        # views are my own / views my own / #ViewsMyOwn / all views mine / views = personal
        rf"\b(?:all\s+)?{_VIEWS}\s*"
        r"(?:expressed\s*)?(?:(?:here|on\s+here|on\s+this\s+(?:account|page|profile)|"
        r"in\s+this\s+post)\s*)?"
        rf"(?:{_IS}?\s*{_ONLY}(?:my\s*own|mine)|{_IS}\s*{_ONLY}(?:my\s+)?personal)\b",
        # personal views / my own opinions / these are my personal thoughts
        rf"\b(?:personal|my\s+own|my\s+personal)\s+{_VIEWS}\b",
        # RT ≠ endorsement / retweets are not endorsements / RTs & likes aren't endorsements
        rf"\b{_ENDORSE}(?:\s*(?:/|&|,|and|or)\s*{_ENDORSE})*\s*"
        r"(?:≠|!=|=/=|=\\=|<>|are\s+not|aren['’]?t|is\s+not|isn['’]?t|not|"
        r"do\s+not\s+(?:mean|equal)|don['’]?t\s+(?:mean|equal))\s*(?:an?\s+)?endorse(?:ments?)?\b",
        # ... do not represent / necessarily reflect the views of my employer
        r"\b(?:do(?:es)?\s+not|don['’]?t|doesn['’]?t|not)\s+(?:necessarily\s+)?"
        r"(?:represent|reflect)\b",
        # not speaking for / on behalf of my employer
        r"\bnot\s+(?:speaking|posting|tweeting|writing)\s+(?:for|on\s+behalf\s+of)\b",
    )
)

# Someone saying a role title of themselves: "I'm a", "as a", "proud to be a", then up to
# two words that describe police work, then the title.
_SELF = r"(?:\bI\s+am|\bI['’]?m|\bI['’]ve\s+been|\bas|\bbeing|\bto\s+be)\s+an?\s+"
_DESCRIBING = (
    r"(?i:(?:(?:proud|serving|police|special|detective|response|neighbourhood|firearms|"
    r"traffic|custody|trainee|student|probationary|uniformed|frontline|front-line|met)\s+){0,2})"
)


def _association(text: str, profile: str, names: OrganisationNames) -> Finding | None:
    """The first thing that discloses the author's association, unless a disclaimer is
    there too (in the post or the profile)."""
    if any(p.search(part) for p in DISCLAIMERS for part in (text, profile) if part):
        return None
    for part, where in ((text, POST), (profile, PROFILE)):
        found = _first_mention(part, names, profile=where == PROFILE)
        if found is not None:
            start, written = found
            return Finding(
                kind=ASSOCIATION_WITHOUT_DISCLAIMER,
                label=f"association with {names.called} disclosed without 'views are my own'",
                excerpt=written,
                where=where,
                offset=start,
            )
    return None


def _first_mention(
    text: str, names: OrganisationNames, *, profile: bool
) -> tuple[int, str] | None:
    if not text:
        return None
    excluded = [m.span() for n in names.not_names for m in _as_written(n).finditer(text)]
    spans: list[tuple[int, int]] = []
    patterns = [re.compile(rf"(?<!\w){_words(names.full_name)}(?!\w)", re.IGNORECASE)]
    patterns += [_as_written(n) for n in names.short_names]
    patterns += [_domain(d) for d in names.email_domains]
    patterns += [_hashtag(h) for h in names.hashtags]
    patterns += [_numbered(r) for r in names.numbered_ranks]
    for title in names.role_titles:
        patterns.append(_as_written(title) if profile else _as_written(title, after=_SELF))
    for pattern in patterns:
        for m in pattern.finditer(text):
            start, end = m.span("name") if "name" in pattern.groupindex else m.span()
            if any(a < end and start < b for a, b in excluded):
                continue
            spans.append((start, end))
    if not spans:
        return None
    # Overlapping mentions ("the Met" in "the Met Police") are shown as one.
    spans.sort()
    start, end = spans[0]
    for other_start, other_end in spans[1:]:
        if other_start >= end:
            break
        end = max(end, other_end)
    return start, text[start:end]


def _words(name: str) -> str:
    return r"\s+".join(re.escape(w) for w in name.split())


def _as_written(name: str, after: str = "") -> re.Pattern[str]:
    """A name matched with its capitals: a word written with a capital needs one (all
    capitals need all), a word in lower case matches in any case."""
    parts = []
    for word in name.split():
        if len(word) > 1 and word.isupper():
            parts.append(re.escape(word))
        elif word[:1].isupper():
            parts.append(re.escape(word[0]) + "(?i:" + re.escape(word[1:]) + ")")
        else:
            parts.append("(?i:" + re.escape(word) + ")")
    body = r"\s+".join(parts)
    if after:
        return re.compile(rf"(?i:{after}){_DESCRIBING}(?P<name>{body})(?!\w)")
    return re.compile(rf"(?<!\w)(?P<name>{body})(?!\w)")


def _domain(domain: str) -> re.Pattern[str]:
    # The domain or any sub-domain of it, in an address or on its own, not a longer name.
    return re.compile(rf"(?<![\w-]){re.escape(domain)}(?![\w-]|\.\w)", re.IGNORECASE)


def _hashtag(tag: str) -> re.Pattern[str]:
    tag = tag if tag.startswith("#") else "#" + tag
    return re.compile(rf"(?<![\w#]){re.escape(tag)}(?!\w)", re.IGNORECASE)


def _numbered(rank: str) -> re.Pattern[str]:
    # A rank and a shoulder or warrant number: "PC 1234", "DC1234", "PS 56AB".
    return re.compile(rf"(?<!\w){re.escape(rank)}\s?\d{{2,6}}[A-Z]{{0,2}}(?!\w)")
