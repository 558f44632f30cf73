"""Static host entries (--hosts-file): /etc/hosts form, every mistake with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from webwarden.gateway.hosts_file import HostsFileError, parse_hosts, read_hosts_file


def test_names_map_to_their_addresses_in_order() -> None:
    hosts = parse_hosts(
        "# intranet\n10.1.2.3 intranet.force.example Wiki.Force.Example.  # trailing dot\n"
        "\n2001:db8::1 intranet.force.example\n10.1.2.4 intranet.force.example\n"
    )
    assert hosts == {
        "intranet.force.example": ("10.1.2.3", "2001:db8::1", "10.1.2.4"),
        "wiki.force.example": ("10.1.2.3",),
    }


def test_every_mistake_is_reported_with_its_line() -> None:
    with pytest.raises(HostsFileError) as caught:
        parse_hosts("10.0.0.1\nnot-an-address host.example\n10.0.0.2 bad_name!\n", "h")
    text = str(caught.value)
    assert "h:1: an address needs at least one name" in text
    assert "h:2: 'not-an-address' is not an IP address" in text
    assert "h:3: 'bad_name!' is not a valid host name" in text


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(HostsFileError, match="cannot be read"):
        read_hosts_file(tmp_path / "missing")
