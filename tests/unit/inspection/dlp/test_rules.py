"""DlpRules: the shipped defaults, configuration from YAML/JSON, and clear errors."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from webwarden.inspection.dlp import DETECTORS, DlpRules, LogoHash, reference_format
from webwarden.inspection.dlp.rules import parse_logo_hash

CONFIG = """\
organisation: Greater Manchester Police
email-domains: [gmp.police.uk, GMP.PNN.police.uk]
references:
  cad: 'CAD ?\\d{3,5}/\\d{2}[A-Z]{3}\\d{2}'
  cris: '\\d{7}/\\d{2}'
  pnc-id: '\\d{2}(?:\\d{2})?/\\d{1,7}[A-Z]'
logos:
  gmp-badge: c3a5964e1b1e0f3c
logo-max-distance: 8
detectors: [protective-marking, organisation-email, references, organisation-logo]
"""


def test_the_default_is_the_met_with_every_detector_on() -> None:
    rules = DlpRules.default()
    assert rules.organisation == "Metropolitan Police Service"
    assert rules.email_domains == ("met.police.uk", "met.pnn.police.uk")
    assert rules.detectors == frozenset(DETECTORS)
    assert rules.references == () and rules.logos == ()


def test_configuration_from_yaml() -> None:
    rules = DlpRules.from_mapping(yaml.safe_load(CONFIG))
    assert rules.organisation == "Greater Manchester Police"
    assert rules.email_domains == ("gmp.police.uk", "gmp.pnn.police.uk")
    assert [r.kind for r in rules.references] == [
        "reference-cad",
        "reference-cris",
        "reference-pnc-id",
    ]
    assert rules.references[0].pattern.fullmatch("CAD 1234/04DEC26")
    assert rules.references[1].pattern.fullmatch("4412345/26")
    assert rules.references[2].pattern.fullmatch("26/123456X")
    assert rules.logos == (LogoHash("gmp-badge", 0xC3A5964E1B1E0F3C),)
    assert rules.logo_max_distance == 8
    assert rules.enabled("references") and not rules.enabled("ni-number")


def test_omitted_keys_take_the_shipped_values() -> None:
    rules = DlpRules.from_mapping(
        {"organisation": "Kent Police", "email-domains": ["kent.police.uk"]}
    )
    assert rules.detectors == frozenset(DETECTORS)
    assert rules.references == () and rules.logos == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "blue"}, "unknown key 'colour'"),
        ({"organisation": ""}, "organisation: must be"),
        ({"email-domains": "met.police.uk"}, "email-domains: must be a list"),
        ({"email-domains": ["@met.police.uk"]}, "'@met.police.uk' is not a lower-case domain"),
        ({"email-domains": ["https://met.police.uk"]}, "is not a lower-case domain"),
        ({"email-domains": []}, "at least one is needed while organisation-email is on"),
        ({"references": {"cris": "(\\d{7}"}}, "references.cris: reference 'cris': bad regular"),
        ({"references": {"CRIS": "\\d{7}"}}, "must be a lower-case slug"),
        ({"references": {"crime ref": "\\d{7}"}}, "must be a lower-case slug"),
        ({"references": {"any": "\\d*"}}, "matches empty text"),
        ({"references": ["\\d{7}"]}, "references: must be a mapping"),
        ({"logos": {"crest": "xyz"}}, "logos.crest: 'xyz' is not a logo hash"),
        ({"logos": {"Crest": "c3a5964e1b1e0f3c"}}, "logos.Crest: the name must be"),
        ({"logo-max-distance": 40}, "logo-max-distance: 40 must be a whole number from 0 to 32"),
        ({"logo-max-distance": "10"}, "logo-max-distance: must be a whole number"),
        ({"detectors": ["ni-number", "dna-profile"]}, "detectors: unknown 'dna-profile'"),
        ({"detectors": "ni-number"}, "detectors: must be a list"),
    ],
)
def test_each_mistake_is_named_with_its_key(change: dict[str, Any], message: str) -> None:
    data = {"organisation": "Met", "email-domains": ["met.police.uk"], **change}
    with pytest.raises(ValueError, match=re.escape(message)):
        DlpRules.from_mapping(data)


def test_every_mistake_is_reported_at_once() -> None:
    with pytest.raises(ValueError) as raised:
        DlpRules.from_mapping(
            {"organisation": 3, "references": {"x": "("}, "logos": {"a": "1"}, "extra": 1}
        )
    message = str(raised.value)
    for part in ("unknown key 'extra'", "organisation:", "references.x:", "logos.a:"):
        assert part in message


def test_not_a_mapping_is_refused() -> None:
    with pytest.raises(ValueError, match="must be a mapping"):
        DlpRules.from_mapping(["met.police.uk"])  # type: ignore[arg-type]


def test_the_constructor_validates_too() -> None:
    with pytest.raises(ValueError, match="is not a lower-case domain"):
        DlpRules(organisation="Met", email_domains=("Met.Police.UK",))
    with pytest.raises(ValueError, match="given twice"):
        DlpRules(
            organisation="Met",
            email_domains=("met.police.uk",),
            references=(reference_format("cris", r"\d{7}"), reference_format("cris", r"\d{8}")),
        )


def test_email_domains_may_be_empty_when_that_detector_is_off() -> None:
    rules = DlpRules.from_mapping({"organisation": "Met", "detectors": ["ni-number"]})
    assert rules.email_domains == ()


@pytest.mark.parametrize(
    ("written", "value"),
    [("c3a5964e1b1e0f3c", 0xC3A5964E1B1E0F3C), ("0000000000000001", 1), (255, 255)],
)
def test_logo_hashes_are_hex_or_integers(written: object, value: int) -> None:
    assert parse_logo_hash(written) == value


@pytest.mark.parametrize("written", ["c3a5964e1b1e0f3", "0x3a5964e1b1e0f3c", -1, 1 << 64, True])
def test_bad_logo_hashes_are_refused(written: object) -> None:
    with pytest.raises(ValueError, match="not a logo hash"):
        parse_logo_hash(written)
