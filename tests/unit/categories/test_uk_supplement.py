"""The UK supplement: its shipped files match its source CSVs, every entry is a valid
domain in one category only, well-known UK sites are where they belong, and the
refresh script and the import refuse bad input and change nothing."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from webwarden.categories import shipped
from webwarden.categories.index import open_index
from webwarden.categories.snapshot import build_snapshot
from webwarden.categories.uk_supplement import (
    CSV_HEADER,
    MANIFEST,
    SourceRow,
    SupplementError,
    check_rows,
    entry_problem,
    import_supplement,
    load_sources,
    make_manifest,
    parse_source_csv,
    read_lists,
    read_manifest,
    render_lists,
)

ROOT = Path(__file__).resolve().parents[3]
FOLDER = ROOT / "src" / "webwarden" / "data" / "uk-supplement"
NEW_CATEGORIES = {"health", "trade_unions", "counselling"}
HEADER = ",".join(CSV_HEADER) + "\n"


def _refresh_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "refresh_uk_supplement", ROOT / "scripts" / "refresh_uk_supplement.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


refresh = _refresh_script()


def _shipped_entries() -> dict[str, set[str]]:
    return {
        name.split("/")[0]: set(data.decode("ascii").split())
        for name, data in read_lists(FOLDER).items()
        if name.endswith("/domains")
    }


# --- the shipped files ------------------------------------------------------------------


def test_shipped_files_are_in_sync_with_the_csvs() -> None:
    files = render_lists(load_sources(FOLDER))
    assert read_lists(FOLDER) == files
    manifest = json.loads((FOLDER / MANIFEST).read_text(encoding="utf-8"))
    assert manifest == make_manifest(files, manifest["compiled"])
    assert manifest["compiled"] == "2026-12-04"


def test_shipped_files_are_sorted_unique_lower_case() -> None:
    for name, data in read_lists(FOLDER).items():
        lines = data.decode("ascii").splitlines()
        assert lines == sorted(set(lines)), name
        assert all(line == line.lower() and entry_problem(line) is None for line in lines), name


def test_every_source_row_is_valid() -> None:
    rows = load_sources(FOLDER)
    assert len(rows) > 300
    assert {row.category for row in rows} == {"bank", "financial"} | NEW_CATEGORIES
    assert [row for row in rows if entry_problem(row.domain) is not None] == []


def test_no_entry_in_two_supplement_categories() -> None:
    """Neither the same name nor a name below another category's entry (which would
    put that site in both)."""
    owner: dict[str, str] = {}
    for category, entries in _shipped_entries().items():
        for entry in entries:
            assert entry not in owner, f"{entry} in {category} and {owner.get(entry)}"
            owner[entry] = category
    for entry, category in owner.items():
        labels = entry.split(".")
        for cut in range(1, len(labels) - 1):
            parent = ".".join(labels[cut:])
            assert owner.get(parent, category) == category, f"{entry} is below {parent}"


@pytest.mark.parametrize(
    ("category", "domain"),
    [
        ("bank", "barclays.co.uk"),
        ("bank", "hsbc.co.uk"),
        ("bank", "firstdirect.com"),
        ("bank", "lloydsbank.co.uk"),
        ("bank", "halifax-online.co.uk"),
        ("bank", "natwest.com"),
        ("bank", "nationwide.co.uk"),
        ("bank", "monzo.com"),
        ("bank", "starlingbank.com"),
        ("bank", "revolut.com"),
        ("bank", "ybs.co.uk"),
        ("bank", "bank.marksandspencer.com"),
        ("financial", "paypal.com"),
        ("financial", "wise.com"),
        ("financial", "nsandi.com"),
        ("financial", "experian.co.uk"),
        ("financial", "stepchange.org"),
        ("health", "nhs.uk"),
        ("health", "nhs.net"),
        ("health", "hscni.net"),
        ("health", "patientaccess.com"),
        ("health", "macmillan.org.uk"),
        ("trade_unions", "unison.org.uk"),
        ("trade_unions", "polfed.org"),
        ("trade_unions", "tuc.org.uk"),
        ("counselling", "samaritans.org"),
        ("counselling", "policecare.org.uk"),
        ("counselling", "citizensadvice.org.uk"),
    ],
)
def test_well_known_sites_are_listed(category: str, domain: str) -> None:
    assert domain in _shipped_entries()[category]


@pytest.mark.parametrize(
    "domain",
    [
        "gov.uk",  # government is not a never-decrypt category
        "hmrc.gov.uk",
        "marksandspencer.com",  # only the bank's host, not the shop
        "tpp-uk.com",  # only SystmOnline, not the supplier's site
        "stripe.com",  # merchant tools, not a consumer money service
        "stonewall.org.uk",  # advocacy, not a helpline
        "bbc.co.uk",
        "uk",
        "co.uk",
    ],
)
def test_sites_that_are_not_listed(domain: str) -> None:
    assert all(domain not in entries for entries in _shipped_entries().values())


def test_lookups_through_a_snapshot_of_the_supplement(tmp_path: Path) -> None:
    snapshot = tmp_path / "uk.wwcat"
    build_snapshot(import_supplement(), snapshot)
    with open_index(snapshot) as index:
        assert index.lookup_url("https://www.barclays.co.uk/") == {"bank"}
        assert index.lookup_url("https://online.lloydsbank.co.uk/personal/logon") == {"bank"}
        assert index.lookup_url("https://bank.marksandspencer.com/") == {"bank"}
        assert index.lookup_url("https://www.marksandspencer.com/") == frozenset()
        assert index.lookup_url("https://111.wales.nhs.uk/") == {"health"}
        assert index.lookup_url("https://www.unison.org.uk/join") == {"trade_unions"}
        assert index.lookup_url("https://www.samaritans.org/") == {"counselling"}
        assert index.lookup_url("https://notnhs.uk/") == frozenset()


def test_shipped_names_and_provenance_include_the_supplement() -> None:
    names = shipped.shipped_category_names()
    assert names >= NEW_CATEGORIES
    provenance = shipped.shipped_provenance()
    assert provenance["supplement_sha256"] == read_manifest(FOLDER).sha256


def test_default_snapshot_rebuilt_when_the_supplement_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBWARDEN_STATE_DIR", str(tmp_path))
    builds: list[Path] = []
    monkeypatch.setattr(shipped, "build_shipped", builds.append)
    path = shipped.default_snapshot_path()
    current = shipped.shipped_provenance()
    build_snapshot(import_supplement(), path, provenance=current)
    shipped.ensure_default_snapshot()
    assert builds == []
    build_snapshot(import_supplement(), path, provenance={**current, "supplement_sha256": "0"})
    shipped.ensure_default_snapshot()
    assert builds == [path]


# --- entries and source rows --------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["barclays.co.uk", "bank.marksandspencer.com", "allica.bank", "lgbt.foundation",
             "swansea-bs.co.uk", "cancerresearchuk.org/about-cancer"],
)
def test_valid_entries(text: str) -> None:
    assert entry_problem(text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("Barclays.co.uk", "normal form"),
        ("barclays.co.uk.", "normal form"),
        ("https://barclays.co.uk", "normal form"),
        (".barclays.co.uk", "normal form"),
        ("barclays.co.uk:443", "normal form"),
        ("example.com/dir/", "normal form"),
        ("www.barclays.co.uk", "www"),
        ("barclays", "public domain"),
        ("nhs.123", "IPv4"),
        ("192.0.2.1", "IP address"),
        ("*.nhs.uk", "wildcard"),
        ("nhs uk", "whitespace"),
        ("bar_clays.co.uk/ä", "normal form"),
    ],
)
def test_invalid_entries(text: str, reason: str) -> None:
    problem = entry_problem(text)
    assert problem is not None and reason in problem


def test_parse_source_csv_reads_rows() -> None:
    text = HEADER + 'Barclays Bank UK PLC,barclays.co.uk,PRA,759676\n\n"A, B",ab.co.uk,FCA,\n'
    rows = parse_source_csv(text, "bank", "bank.csv")
    assert [(r.name, r.domain, r.register, r.reference, r.where) for r in rows] == [
        ("Barclays Bank UK PLC", "barclays.co.uk", "PRA", "759676", "bank.csv:2"),
        ("A, B", "ab.co.uk", "FCA", "", "bank.csv:4"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,domain\nA,a.co.uk\n", "bank.csv:1: header must be"),
        ("", "bank.csv:1: header must be"),
        (HEADER + "A,a.co.uk,PRA\n", "bank.csv:2: expected 4 fields, got 3"),
        (HEADER + "A,a.co.uk,XYZ,\n", "bank.csv:2: register 'XYZ' is not one of"),
        (HEADER + ",a.co.uk,PRA,\n", "bank.csv:2: empty name"),
        (HEADER + "A,ok.co.uk,PRA,\nB,www.b.co.uk,PRA,\n", "bank.csv:3: 'www.b.co.uk'"),
    ],
)
def test_parse_source_csv_refuses_bad_rows(text: str, message: str) -> None:
    with pytest.raises(SupplementError, match=message.replace(".", r"\.")):
        parse_source_csv(text, "bank", "bank.csv")


def test_parse_source_csv_refuses_a_bad_category_name() -> None:
    with pytest.raises(SupplementError, match="bad category name"):
        parse_source_csv(HEADER, "Trade Unions", "Trade Unions.csv")


def _row(category: str, domain: str, line: int) -> SourceRow:
    return SourceRow(category, "X", domain, "ORG", "", f"{category}.csv:{line}")


def test_check_rows_refuses_duplicates() -> None:
    check_rows([_row("bank", "a.co.uk", 2), _row("health", "b.co.uk", 2)])
    with pytest.raises(SupplementError, match=r"bank\.csv:3: a\.co\.uk listed twice"):
        check_rows([_row("bank", "a.co.uk", 2), _row("bank", "a.co.uk", 3)])
    with pytest.raises(SupplementError, match="also in 'bank'"):
        check_rows([_row("bank", "a.co.uk", 2), _row("health", "a.co.uk", 7)])
    check_rows([_row("bank", "a.co.uk", 2), _row("bank", "x.a.co.uk", 3)])
    with pytest.raises(SupplementError, match=r"x\.a\.co\.uk is covered by a\.co\.uk in 'bank'"):
        check_rows([_row("bank", "a.co.uk", 2), _row("health", "x.a.co.uk", 3)])
    with pytest.raises(SupplementError, match=r"a\.co\.uk/x is covered by a\.co\.uk"):
        check_rows([_row("bank", "a.co.uk", 2), _row("health", "a.co.uk/x", 3)])


def test_render_lists_sorts_and_splits_urls() -> None:
    rows = [_row("health", "b.org", 2), _row("health", "a.org/x", 3), _row("bank", "z.com", 2),
            _row("bank", "c.com", 3)]
    assert render_lists(rows) == {
        "bank/domains": b"c.com\nz.com\n",
        "health/domains": b"b.org\n",
        "health/urls": b"a.org/x\n",
    }


# --- importing --------------------------------------------------------------------------


def _copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FOLDER, tmp_path / "uk-supplement"))


def test_import_supplement_of_the_shipped_files() -> None:
    result = import_supplement()
    assert result.rejected == [] and result.notices == []
    assert result.domain_entries == sum(len(e) for e in _shipped_entries().values())
    assert result.categories == {"bank", "financial"} | NEW_CATEGORIES


def test_import_refuses_files_that_do_not_match_the_manifest(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    with (folder / "health" / "domains").open("a") as stream:
        stream.write("example.org\n")
    with pytest.raises(SupplementError, match=r"do not match manifest\.json"):
        import_supplement(folder)
    (folder / "health" / "domains").unlink()
    with pytest.raises(SupplementError, match="missing"):
        import_supplement(folder)
    (folder / MANIFEST).write_text("{")
    with pytest.raises(SupplementError, match="unreadable"):
        import_supplement(folder)


# --- the refresh script -----------------------------------------------------------------


def test_refresh_check_passes_on_the_shipped_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert refresh.main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_refresh_writes_new_rows_and_reports_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy(tmp_path)
    with (folder / "sources" / "health.csv").open("a") as stream:
        stream.write("Example Health,example-health.org.uk,CHARITY,\n")
    (folder / "sources" / "bank.csv").write_text(HEADER + "Only Bank,only.co.uk,PRA,\n")
    assert refresh.main(["--folder", str(folder), "--check"]) == 1
    assert "out of date" in capsys.readouterr().out
    assert refresh.main(["--folder", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "+1 -0" in out.split("health/domains")[1].splitlines()[0]
    assert "->     1" in out.split("bank/domains")[1].splitlines()[0]
    assert b"example-health.org.uk\n" in (folder / "health" / "domains").read_bytes()
    assert (folder / "bank" / "domains").read_bytes() == b"only.co.uk\n"
    assert import_supplement(folder).domains["bank"] == {"only.co.uk"}
    assert refresh.main(["--folder", str(folder), "--check"]) == 0


@pytest.mark.parametrize(
    ("line", "args", "message"),
    [
        ("Bad,Bad.co.uk,PRA,\n", [], "normal form"),
        ("Twice,nhs.uk,NHS,\n", [], "listed twice"),
        ("", ["--compiled", "4/12/2026"], "expected YYYY-MM-DD"),
        ("", ["--register", "XYZ=f.csv"], "expected CODE=FILE"),
        ("", ["--register", "PRA=/nonexistent/f.csv"], "No such file"),
    ],
)
def test_refresh_refuses_bad_input_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, args: list[str], message: str
) -> None:
    folder = _copy(tmp_path)
    with (folder / "sources" / "health.csv").open("a") as stream:
        stream.write(line)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert refresh.main(["--folder", str(folder), *args]) == 1
    assert message in capsys.readouterr().err
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def test_refresh_reviews_a_register_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register = tmp_path / "pra-banks.csv"
    register.write_text(
        "\ufeffList of banks as compiled by the PRA\n"
        "Firm Reference Number,Firm Name,Country of incorporation\n"
        "759676,Barclays Bank UK PLC,United Kingdom\n"
        "765112,HSBC UK BANK PLC,United Kingdom\n"
        "999999,Example Newbank Limited,United Kingdom\n",
        encoding="utf-8",
    )
    assert refresh.main(["--check", "--register", f"PRA={register}"]) == 0
    out = capsys.readouterr().out
    assert "unmapped:   example newbank" in out
    assert "not listed: Nationwide Building Society" in out
    assert "not listed: Barclays Bank UK PLC" not in out
    assert "not listed: HSBC UK Bank plc (first direct)" not in out


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ("The Co-operative Bank p.l.c.", "Co-operative Bank PLC", True),
        ("HSBC UK Bank plc (first direct)", "HSBC UK BANK PLC", True),
        ("Tipton & Coseley Building Society", "Tipton and Coseley Building Society", True),
        ("Monzo Bank Limited", "Monzo Bank Ltd", True),
        ("Bank of Scotland plc", "Bank of Ireland (UK) plc", False),
        ("Leeds Building Society", "Leek Building Society", False),
    ],
)
def test_firm_key(left: str, right: str, same: bool) -> None:
    assert (refresh.firm_key(left) == refresh.firm_key(right)) is same


def test_load_sources_reports_every_bad_file(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "sources" / "health.csv").write_bytes(HEADER.encode() + b"Caf\xe9,cafe.org,ORG,\n")
    (folder / "sources" / "bank.csv").write_text("name\n")
    with pytest.raises(SupplementError) as caught:
        load_sources(folder)
    assert "health.csv: not UTF-8" in str(caught.value)
    assert "bank.csv:1: header must be" in str(caught.value)
    for path in (folder / "sources").glob("*.csv"):
        path.unlink()
    with pytest.raises(SupplementError, match=r"no <category>\.csv files"):
        load_sources(folder)
