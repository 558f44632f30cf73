"""The post checker (P1): posts as staff write them (tweets, Facebook posts, LinkedIn bios),
clean and breaching, and the traps that must stay clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from webwarden.inspection.dlp import DlpRules
from webwarden.inspection.offensive_words import OffensiveWords, WordListError, mask
from webwarden.inspection.post_check import (
    POST,
    PROFILE,
    OrganisationNames,
    PostReport,
    advice_for,
)
from webwarden.inspection.post_check import check_post as _check_post
from webwarden.inspection.post_config import load_post_config
from webwarden.model.finding import (
    ASSOCIATION_WITHOUT_DISCLAIMER,
    OFFENSIVE_LANGUAGE,
    ORGANISATION_EMAIL,
    PROTECTIVE_MARKING,
    Finding,
)
from webwarden.sources import SourceError

MET = OrganisationNames.default()
RULES = DlpRules.default()


def check(text: str, profile: str = "", names: OrganisationNames = MET) -> PostReport:
    return _check_post(text, names=names, rules=RULES, profile=profile)


def kinds(report: PostReport) -> list[str]:
    return [f.kind for f in report.breaches]


# --- association without a disclaimer ------------------------------------------------------

# (post, profile, what gives the association away, where it is)
DISCLOSING = [
    ("Proud to have passed out at Hendon today. Officially part of the Met! 💙", "",
     "the Met", POST),
    ("Long night shift with the Met Police. Coffee needed ☕", "", "the Met Police", POST),
    ("Twenty years in the Metropolitan Police Service this week and I still love it.", "",
     "Metropolitan Police Service", POST),
    ("Twenty years in the metropolitan police service this week.", "",
     "metropolitan police service", POST),
    ("Great turnout at the #MetPolice open day in Lambeth, thanks all who came", "",
     "#MetPolice", POST),
    ("Great turnout at the #metpolice open day", "", "#metpolice", POST),
    ("MPS colleagues raised £5,000 for the hospice this weekend, well done all", "",
     "MPS", POST),
    ("Back from the awards night at New Scotland Yard, what a do", "",
     "New Scotland Yard", POST),
    ("PC 4521 here, reminding everyone to lock their cars over Christmas", "", "PC 4521",
     POST),
    ("Cracking result at court today. DC1234 signing off.", "", "DC1234", POST),
    ("As a serving police officer I am sick of these cuts.", "", "police officer", POST),
    ("I'm a proud PCSO in Hackney and I love my job", "", "PCSO", POST),
    ("Just finished nights. I'm a Met police officer and proud of it", "",
     "police officer", POST),
    ("Ask me anything about the festival: my work address is on www.met.police.uk", "",
     "met.police.uk", POST),
    # The profile gives it away; the post itself is harmless.
    ("Excited to start my new role next week!",
     "Detective Sergeant at the Metropolitan Police Service | Fraud | Cyber",
     "Detective Sergeant", PROFILE),
    ("Lovely sunset over the Thames tonight", "Response officer. Dad of two. Spurs.",
     "Response officer", PROFILE),
    ("Parkrun PB this morning!", "Police officer, runner, dog person", "Police officer",
     PROFILE),
    ("Parkrun PB this morning!", "Sgt | Lambeth | tea drinker", "Sgt", PROFILE),
    ("Parkrun PB this morning!", "Cop. Dad. Arsenal.", "Cop", PROFILE),
]


@pytest.mark.parametrize(("post", "profile", "written", "where"), DISCLOSING)
def test_association_without_a_disclaimer_is_a_breach(
    post: str, profile: str, written: str, where: str
) -> None:
    report = check(post, profile)
    found = [f for f in report.breaches if f.kind == ASSOCIATION_WITHOUT_DISCLAIMER]
    assert len(found) == 1, report
    finding = found[0]
    assert finding.excerpt == written
    assert finding.where == where
    text = post if where == POST else profile
    assert text[finding.offset:finding.offset + len(written)] == written
    assert not report.clean


DISCLAIMED = [
    ("Proud to have joined the Met today! Views my own", ""),
    ("Proud to have joined the Met today! Views are my own.", ""),
    ("Proud to have joined the Met today! VIEWS ARE MY OWN", ""),
    ("Proud to have joined the Met today", "Met Police officer. Views are my own."),
    ("Met Police. Opinions are my own.", ""),
    ("Met Police. Opinions are mine alone", ""),
    ("Met Police, all views mine", ""),
    ("Met Police. Personal views only.", ""),
    ("These are my own views, not those of the Met", ""),
    ("Serving officer in the Met. RT ≠ endorsement", ""),
    ("Serving officer in the Met. RTs != endorsements", ""),
    ("Serving officer in the Met. Retweets are not endorsements.", ""),
    ("Serving officer in the Met. RTs/likes aren't endorsement", ""),
    ("The views expressed here are my own and do not represent the MPS", ""),
    ("Views expressed do not represent those of the Metropolitan Police Service", ""),
    ("Met Police life #ViewsMyOwn", ""),
    ("PC 4521, veiws are my own", ""),
    ("PC 4521, views = mine", ""),
    ("Tweets are personal. #MetPolice", ""),
    ("Lovely day", "DS at the Met. Not speaking on behalf of my employer."),
]


@pytest.mark.parametrize(("post", "profile"), DISCLAIMED)
def test_a_disclaimer_in_the_post_or_profile_clears_the_association(
    post: str, profile: str
) -> None:
    assert ASSOCIATION_WITHOUT_DISCLAIMER not in kinds(check(post, profile))


# Posts that look like a mention of the organisation and are not.
NOT_THE_ORGANISATION = [
    "Rain all weekend according to the Met Office. Typical bank holiday.",
    "The Met Office has issued a yellow weather warning for London",
    "I met police at the station to report my bike stolen",
    "Met police at the scene of the crash, they were brilliant",
    "MPs debate the bill tonight, should be lively",
    "Write to your MPs about the library closures",
    "We met up for drinks after work, great night",
    "Met my old school mates at the pub, haven't changed a bit",
    "Watching the Met Gala red carpet with a takeaway",
    "Off to New York to see the Met Opera next spring",
    "Met Éireann warns of storms over the weekend",
    "A police officer helped my nan across the road today, lovely",
    "Police officers were at the match, all very calm",
    "Inspector Morse marathon this weekend, bliss",
    "New PC build finished, RTX 5090 and all",
    "Fixed the DC motor on the kids' go-kart",
    "Washington DC was amazing, highly recommend",
    "The compliance officer signed the audit off",
]


@pytest.mark.parametrize("post", NOT_THE_ORGANISATION)
def test_false_positive_traps_are_clean(post: str) -> None:
    report = check(post)
    assert report.clean, report
    assert report.advice == ()


def test_another_organisation_configured_by_name() -> None:
    names = OrganisationNames(
        full_name="Greater Manchester Police", short_names=("GMP",),
        email_domains=("gmp.police.uk",), hashtags=("#GMP",), everyday_name="GMP",
    )
    report = check("Proud to join GMP today", names=names)
    assert kinds(report) == [ASSOCIATION_WITHOUT_DISCLAIMER]
    assert "because it says you work for GMP" in report.advice[0]
    assert check("Proud to join the Met today", names=names).clean


# --- offensive language ---------------------------------------------------------------------

# (post, masked excerpt, category in the label)
OFFENSIVE = [
    ("What a f**king joke this rota is", "f•••••g", "profanity"),
    ("Fuuuuck me, what a night", "F•••••k", "profanity"),
    ("F.U.C.K this weather", "F•••••K", "profanity"),
    ("That ref is an absolute w@nker", "w••••r", "profanity"),
    ("The bloke who nicked my bike is a c*nt", "c••t", "profanity"),
    ("Some of the lads on my team are proper b1tches about leave", "b•••••s", "misogyny"),
    ("Honestly he's such a retard", "r••••d", "slur disability"),
    ("Go back to your own country mate", "Go b••k to y••r o•n c•••••y", "harassment"),
    ("kys", "k•s", "harassment"),
    ("I'll kill you if you park across my drive again", "I••l k••l y•u", "threat"),
    ("Saw a tranny on the night bus", "t••••y", "slur gender identity"),
    ("You P A K I", "P•••••I", "slur race"),
]


@pytest.mark.parametrize(("post", "masked", "category"), OFFENSIVE)
def test_offensive_language_is_found_through_disguises(
    post: str, masked: str, category: str
) -> None:
    report = check(post)
    found = [f for f in report.breaches if f.kind == OFFENSIVE_LANGUAGE]
    assert [f.excerpt for f in found] == [masked]
    assert found[0].label == f"offensive language: {category}"
    assert found[0].where == POST
    assert len(post[found[0].offset:]) >= len(masked)


CLEAN_WORDS = [
    "Scunthorpe United 2 Grimsby 1, great away day",
    "A classic day out in Essex with the kids",
    "Passed my sergeant's assessment! Well chuffed",
    "Cockpit tour at Duxford, the boy loved it",
    "Faggots and peas for tea, proper northern",
    "Pakistan won the cricket, fair play",
    "Mongolia next summer, can't wait",
    "The spice market in Marrakech was incredible",
    "Reading Dickens on the train home",
    "Booked a session with a therapist, feeling better",
    "The whole class passed their exams",
    "Warmongers, the lot of them, says the paper",
    "Shift pattern for Sussex released",
]


@pytest.mark.parametrize("post", CLEAN_WORDS)
def test_the_scunthorpe_problem_is_avoided(post: str) -> None:
    assert OFFENSIVE_LANGUAGE not in kinds(check(post))


def test_offensive_language_in_the_profile_is_reported_there() -> None:
    report = check("Nice weather", profile="Hates w4nkers. Loves dogs.")
    assert [(f.kind, f.where, f.excerpt) for f in report.breaches] == [
        (OFFENSIVE_LANGUAGE, PROFILE, "w•••••s")
    ]


@pytest.mark.parametrize(
    ("written", "masked"),
    [("fuck", "f••k"), ("kill yourself", "k••l y••••••f"), ("go to it", "go to it"),
     ("ab", "ab")],
)
def test_mask_hides_the_middle_of_each_word(written: str, masked: str) -> None:
    assert mask(written) == masked


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("badword\n", r"extra.txt:1: 'badword' comes before any \[category\]"),
        ("[threat]\nbad_word\n", "extra.txt:2: 'bad_word' is not a term"),
        ("[threat]\nkill\nkill\n", "extra.txt:3: 'kill' is listed twice"),
        ("# only a comment\n", "no terms"),
        ("[Threat]\nkill\n", "is not a term"),
    ],
)
def test_word_list_mistakes_are_refused_with_the_line(text: str, message: str) -> None:
    with pytest.raises(WordListError, match=message):
        OffensiveWords.parse(text, "extra.txt")


def test_an_extended_word_list_is_used() -> None:
    words = OffensiveWords.parse("[harassment]\nplod\n!plod on\n")
    report = _check_post("Stupid plod", names=MET, rules=RULES, words=words)
    assert [f.excerpt for f in report.breaches] == ["p••d"]
    assert _check_post("We plod on regardless", names=MET, rules=RULES, words=words).clean


# --- the DLP detectors, through the post checker -------------------------------------------


def test_dlp_findings_are_breaches_with_advice() -> None:
    report = check("Leaked OFFICIAL-SENSITIVE briefing attached lol, views my own")
    assert PROTECTIVE_MARKING in kinds(report)
    advice = report.advice[kinds(report).index(PROTECTIVE_MARKING)]
    assert "must never reveal protectively marked" in advice


def test_an_organisation_email_address_is_a_breach() -> None:
    report = check("Any questions, drop me a line at jane.bloggs@met.police.uk")
    assert ORGANISATION_EMAIL in kinds(report)
    assert ASSOCIATION_WITHOUT_DISCLAIMER in kinds(report)
    assert len(report.advice) == len(report.breaches)


# --- the report and its advice ---------------------------------------------------------------


def test_a_clean_post() -> None:
    report = check("Lovely walk on Hampstead Heath with the dog this morning 🐕")
    assert report.clean and report.breaches == () and report.advice == ()


def test_breaches_are_in_order_post_first_each_with_one_sentence_of_advice() -> None:
    report = check("Proud of my team at the Met, what a f**king week",
                   profile="PC 1234 | Twat magnet")
    assert [(f.kind, f.where) for f in report.breaches] == [
        (ASSOCIATION_WITHOUT_DISCLAIMER, POST),
        (OFFENSIVE_LANGUAGE, POST),
        (OFFENSIVE_LANGUAGE, PROFILE),
    ]
    assert report.advice[0] == (
        "Add 'views are my own' to your profile or post, because it says you work for the "
        "Met, and the guidance says that if you disclose that you work there you must make "
        "clear that the views are yours alone."
    )
    for sentence in report.advice:
        assert sentence.endswith(".") and sentence.count(". ") == 0


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("vetting-level", "vetting level"),
        ("ni-number", "personal data"),
        ("uk-postcode", "personal data"),
        ("organisation-logo", "logo"),
        ("reference-crime", "official information"),
        ("something-new", "does not allow it"),
    ],
)
def test_advice_names_the_guidance_for_every_kind(kind: str, words: str) -> None:
    sentence = advice_for(Finding(kind, "thing", "x•••y", POST, 0), MET)
    assert words in sentence


# --- configuration --------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "post-checker.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_config_loads_an_organisation(tmp_path: Path) -> None:
    names, rules = load_post_config(write(tmp_path, """\
organisation:
  full-name: Greater Manchester Police
  short-names: [GMP]
  email-domains: [gmp.police.uk]
  hashtags: ["#GMP"]
  everyday-name: GMP
"""))
    assert names.full_name == "Greater Manchester Police"
    assert names.short_names == ("GMP",)
    assert names.role_titles == MET.role_titles  # police titles unless replaced
    assert isinstance(rules, DlpRules)
    assert kinds(_check_post("Off to GMP HQ", names=names, rules=rules)) == [
        ASSOCIATION_WITHOUT_DISCLAIMER
    ]


def test_the_organisation_email_domains_reach_the_dlp_detectors(tmp_path: Path) -> None:
    names, rules = load_post_config(write(tmp_path, """\
organisation:
  full-name: Greater Manchester Police
  email-domains: [gmp.police.uk]
"""))
    assert rules.email_domains == ("gmp.police.uk",)
    report = _check_post("Mail me: a.person@gmp.police.uk", names=names, rules=rules)
    assert ORGANISATION_EMAIL in kinds(report)
    report = _check_post("Mail me: a.person@met.police.uk", names=names, rules=rules)
    assert ORGANISATION_EMAIL not in kinds(report)


def test_a_dlp_section_is_passed_to_the_dlp_rules(tmp_path: Path) -> None:
    _, rules = load_post_config(write(tmp_path, """\
dlp:
  organisation: Metropolitan Police Service
  email-domains: [met.police.uk]
  detectors: [protective-marking]
"""))
    assert rules.enabled(PROTECTIVE_MARKING)
    report = _check_post("j.bloggs@met.police.uk, OFFICIAL-SENSITIVE, views my own",
                         names=MET, rules=rules)
    assert kinds(report) == [PROTECTIVE_MARKING]


def test_an_empty_organisation_section_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="full-name' is missing"):
        load_post_config(write(tmp_path, "organisation: {}\n"))


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("organisaton:\n  full-name: X\n", 2, "unknown key 'organisaton'"),
        ("organisation:\n  full-name: X\n  short-name: [Y]\n", 3,
         "unknown key 'organisation.short-name'"),
        ("organisation:\n  full-name: X\n  hashtags: [GMP]\n", 3,
         "'organisation.hashtags': 'GMP' is not a hashtag"),
        ("organisation:\n  full-name: X\n  email-domains: ['not a domain']\n", 3,
         "'organisation.email-domains': 'not a domain' is not a domain name"),
        ("organisation:\n  full-name: X\n  short-names: GMP\n", 3,
         "'organisation.short-names' must be a list"),
        ("organisation:\n  full-name: ''\n", 2, "'organisation.full-name' must be a non-empty"),
        ("organisation:\n  full-name: X\n  short-names: [GMP, 12]\n", 3,
         "'organisation.short-names' item 2"),
        ("organisation: [GMP]\n", 1, "'organisation' must be a mapping"),
        ("- just a list\n", 1, "expected a mapping"),
        ("organisation:\n  full-name: [X\n", 3, "YAML syntax"),
        ("dlp:\n  organisation: X\n  detectors: [tarot]\n", 2, "dlp: invalid DLP rules"),
        ("dlp:\n  email-domains: [met.police.uk]\n", 2, "dlp: organisation: must be"),
        ("dlp: [x]\n", 1, "dlp: the DLP rules must be a mapping"),
    ],
)
def test_config_mistakes_name_the_key_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SourceError) as caught:
        load_post_config(path)
    problems = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"{path}:{line}: ") and message in p for p in problems), problems


def test_a_missing_config_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read"):
        load_post_config(tmp_path / "absent.yaml")
