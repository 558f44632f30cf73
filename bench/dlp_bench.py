#!/usr/bin/env python3
"""DLP detector throughput: MB/s of ordinary text per detector and for every detector at
once, on one core, over a generated corpus of e-mails, social posts and reports with
occasional hits (markings, vetting levels, phone numbers, postcodes, addresses).

    .venv/bin/python bench/dlp_bench.py [--megabytes N] [--repeat N] [--seed N]

Each document is scanned with its own `scan_text` call, as uploads and posts are; one row
scans the whole corpus as a single text (a large upload). The run is bounded: the corpus
size and the number of repeats are fixed (defaults: 8 MB, best of 3). Figures are noisy
(other work on the machine shows): compare rows of one run rather than runs.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from collections.abc import Callable
from dataclasses import replace

from webwarden.inspection.dlp import DETECTORS, REFERENCES, DlpRules, reference_format, scan_text
from webwarden.inspection.dlp.views import TextView
from webwarden.model.finding import ORGANISATION_LOGO

NAMES = ["Jane Bloggs", "Sam Patel", "Chris O'Neill", "Aisha Khan", "Tom Richards", "Li Wei",
         "Maria Santos", "David Okafor", "Emma Clarke", "Rhys Evans"]
PLACES = ["Lewisham", "Camden", "Croydon", "Hackney", "Ealing", "Brixton", "Hammersmith",
          "Tower Hamlets", "Barnet", "Kingston"]
SENTENCES = [
    "Thanks for sending this over so quickly, it is really helpful.",
    "Can we move the team meeting to {day} at {time}, as the room is booked?",
    "The community event at {place} went well and around {n} people came along.",
    "Please find attached the updated rota for the next {n} weeks.",
    "I have spoken to {name} and they are happy to cover the late shift.",
    "The training session on {day} {date} has been cancelled; a new date will follow.",
    "Budget for the quarter is £{money}, which is {n}% below last year.",
    "Officers attended a report of anti-social behaviour near the station in {place}.",
    "The new parking arrangements at {place} start on {date}; restricted parking applies.",
    "We are looking at ways to protect your family and your home this winter.",
    "Our confidential advice line is open from {time} every weekday.",
    "She has a secret recipe for the best lemon drizzle cake in {place}.",
    "Planning a top secret birthday party for {name} on {day}, don't tell!",
    "Item {n} on the agenda: review of the {place} neighbourhood priorities for {year}.",
    "The figures for {year} show {n} incidents, against {n2} the year before.",
    "Room {n} on the {ordinal} floor is free from {time} if you need it.",
    "Trains from {place} are delayed by about {n} minutes this morning.",
    "Our order {order} was dispatched on {date} and should arrive within {n} days.",
    "Version {n}.{n2} of the policy replaces the {year} edition.",
    "Security checks at the front desk will be tightened from {day}.",
    "The DV risk assessment for the case was completed by the unit on {date}.",
    "Moving to Columbia, SC next year with the family, so excited!",
    "Read section {n}.{n2} of the guidance before the meeting at {time}.",
    "Shoutout to @{handle} for organising the charity run in {place} #community",
]
HITS = [
    "OFFICIAL-SENSITIVE",
    "RESTRICTED - POLICY",
    "{name} is SC cleared and can attend the briefing.",
    "Applicant holds NPPV level 3 and is DV cleared.",
    "Call me on 07911 {six} or on (020) 7230 {four}.",
    "Her address is 10 Downing Street, London SW1A 2AA.",
    "NI number AB {two} {two} {two} C was on the form.",
    "Contact {handle}@met.police.uk for details.",
    "Classification: Restricted",
    "Patient NHS number 943 476 5919 attached.",
    "Paid with card 4111 1111 1111 1111 yesterday.",
]


def _filler(rng: random.Random) -> str:
    values = {
        "day": rng.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]),
        "time": f"{rng.randint(7, 18)}:{rng.choice(['00', '15', '30', '45'])}",
        "place": rng.choice(PLACES),
        "name": rng.choice(NAMES),
        "n": rng.randint(2, 60),
        "n2": rng.randint(2, 60),
        "date": f"{rng.randint(1, 28)} {rng.choice(['March', 'June', 'October'])} 2026",
        "money": f"{rng.randint(10, 900)},{rng.randint(100, 999)}",
        "year": rng.randint(2015, 2026),
        "ordinal": rng.choice(["1st", "2nd", "3rd", "4th"]),
        "order": rng.randint(10**11, 10**12),
        "handle": rng.choice(["jane.bloggs", "sam_p", "teamlewisham", "cwo.neill"]),
        "six": rng.randint(100000, 999999),
        "four": rng.randint(1000, 9999),
        "two": rng.randint(10, 99),
    }
    return rng.choice(SENTENCES).format(**values)


def _hit(rng: random.Random) -> str:
    return rng.choice(HITS).format(
        name=rng.choice(NAMES), handle="jane.bloggs", six=rng.randint(100000, 999999),
        four=rng.randint(1000, 9999), two=rng.randint(10, 99),
    )


def _paragraph(rng: random.Random, sentences: int, hit_rate: float) -> str:
    parts = [_filler(rng) for _ in range(sentences)]
    if rng.random() < hit_rate:
        parts.insert(rng.randrange(len(parts) + 1), _hit(rng))
    return " ".join(parts)


def _email(rng: random.Random) -> str:
    sender, to = rng.sample(NAMES, 2)
    banner = "OFFICIAL-SENSITIVE\n\n" if rng.random() < 0.03 else ""
    body = "\n\n".join(_paragraph(rng, rng.randint(2, 6), 0.05) for _ in range(rng.randint(2, 5)))
    return (
        f"{banner}From: {sender} <{sender.split()[0].lower()}@example.org>\nTo: {to}\n"
        f"Subject: {_filler(rng)[:50]}\nDate: {rng.randint(1, 28)} March 2026\n\n"
        f"Hi {to.split()[0]},\n\n{body}\n\nKind regards,\n{sender}\n"
    )


def _post(rng: random.Random) -> str:
    return _paragraph(rng, rng.randint(1, 3), 0.03)


def _report(rng: random.Random) -> str:
    sections = []
    for number in range(1, rng.randint(4, 9)):
        rows = "\n".join(
            f"| {rng.choice(PLACES)} | {rng.randint(0, 999)} | {rng.randint(0, 99)}% |"
            for _ in range(rng.randint(2, 6))
        )
        text = "\n\n".join(_paragraph(rng, rng.randint(4, 9), 0.04) for _ in range(3))
        sections.append(f"{number}. Section {number}\n\n{text}\n\n{rows}")
    return "Quarterly report\n\n" + "\n\n".join(sections)


def corpus(megabytes: float, seed: int) -> list[str]:
    """Documents totalling about `megabytes` MB: 50% e-mails, 30% posts, 20% reports by count."""
    rng = random.Random(seed)
    documents: list[str] = []
    size = 0
    while size < megabytes * 1_000_000:
        pick = rng.random()
        document = _email(rng) if pick < 0.5 else _post(rng) if pick < 0.8 else _report(rng)
        documents.append(document)
        size += len(document)
    return documents


def measure(documents: list[str], rules: DlpRules, repeat: int) -> tuple[float, int]:
    """Best MB/s over `repeat` passes, and the number of findings."""
    size = sum(len(d) for d in documents)
    best = float("inf")
    found = 0
    for _ in range(repeat):
        started = time.process_time()
        found = sum(len(scan_text(document, rules)) for document in documents)
        best = min(best, time.process_time() - started)
    return size / best / 1e6, found


def views_only(documents: list[str], repeat: int) -> tuple[float, int]:
    """The part every detector shares: the byte views and the anchor searches in them."""
    size = sum(len(d) for d in documents)
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for document in documents:
            view = TextView(document)
            view.lower  # noqa: B018 - building the view is what is measured
            view.capital_words()
            view.digit_anchors()
        best = min(best, time.process_time() - started)
    return size / best / 1e6, 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    documents = corpus(args.megabytes, args.seed)
    size = sum(len(d) for d in documents)
    print(f"DLP bench: {len(documents)} documents, {size / 1e6:.1f} MB, "
          f"mean {size / len(documents):,.0f} characters; Python {platform.python_version()}, "
          f"{platform.machine()}; best of {args.repeat}, one core")
    default = DlpRules.default()
    with_references = replace(
        default,
        references=(
            reference_format("cad", r"CAD[ ]?\d{3,5}/\d{2}[A-Z]{3}\d{2}"),
            reference_format("cris", r"\d{7}/\d{2}"),
            reference_format("pnc", r"\d{2}(?:\d{2})?/\d{1,7}[A-Z]"),
        ),
    )
    rows: list[tuple[str, Callable[[], tuple[float, int]]]] = []
    for detector in DETECTORS:
        if detector == ORGANISATION_LOGO:
            continue  # images, not text
        rules = with_references if detector == REFERENCES else default
        only = replace(rules, detectors=frozenset({detector}))
        label = "references (cad, cris, pnc)" if detector == REFERENCES else detector
        rows.append((label, lambda only=only: measure(documents, only, args.repeat)))
    rows.append(("ALL shipped (DlpRules.default())",
                 lambda: measure(documents, default, args.repeat)))
    rows.append(("ALL + 3 reference formats",
                 lambda: measure(documents, with_references, args.repeat)))
    rows.append(("  of which: text views and anchors only",
                 lambda: views_only(documents, args.repeat)))
    whole = "\n\n".join(documents)
    rows.append(("ALL shipped, corpus as one text",
                 lambda: measure([whole], default, args.repeat)))
    print(f"{'detector':40} {'MB/s':>8} {'findings':>9}")
    for label, run in rows:
        rate, found = run()
        print(f"{label:40} {rate:8.1f} {found:9d}")


if __name__ == "__main__":
    main()
