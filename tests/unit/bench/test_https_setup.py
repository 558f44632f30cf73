from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from gatewaybench.https_setup import (
    SetupError,
    TunnelClient,
    hosts_text,
    make_origin_pki,
    origin_ca_commands,
    origin_cert_extensions,
    squid_bump_extra,
    squid_bump_port_options,
    stunnel_config,
    webwarden_https_args,
)


def _client(**changes: object) -> TunnelClient:
    values: dict[str, object] = {
        "listen_port": 40001, "proxy_port": 3128, "site": "shop.bench.test",
        "site_port": 8443, "ca_file": Path("/run/ca/ca-1.pem"), "user": "pc1001",
        "password": "demo",
    }
    values.update(changes)
    return TunnelClient(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("names", "expected"), [
    (("shop.bench.test",), "127.0.0.1 shop.bench.test\n"),
    (("shop.bench.test", "www.nhs.uk"), "127.0.0.1 shop.bench.test www.nhs.uk\n"),
])
def test_hosts_text_maps_every_name(names: tuple[str, ...], expected: str) -> None:
    assert hosts_text("127.0.0.1", names) == expected


@pytest.mark.parametrize("names", [(), ("shop bench",), ("www.nhs.uk\n10.0.0.1 evil",),
                                   ("",), ("a#b",)])
def test_hosts_text_refuses_bad_names(names: tuple[str, ...]) -> None:
    with pytest.raises(SetupError):
        hosts_text("127.0.0.1", names)


def test_squid_bump_extra_splices_health_and_bumps_the_rest() -> None:
    text = squid_bump_extra(Path("/w/ssl_db"), Path("/w/origin-ca.pem"), Path("/w/hosts"))
    lines = [line for line in text.splitlines() if line]
    assert "acl never_decrypt ssl::server_name .nhs.uk" in lines
    # Order matters to Squid: peek first, then splice the exception, then bump.
    assert lines[-3:] == ["ssl_bump peek step1", "ssl_bump splice never_decrypt",
                          "ssl_bump bump all"]
    assert "tls_outgoing_options cafile=/w/origin-ca.pem" in lines
    assert "hosts_file /w/hosts" in lines
    assert any(line.startswith("sslcrtd_program ") and "-s /w/ssl_db" in line
               for line in lines)


@pytest.mark.parametrize(("suffix", "helpers"), [
    ("nhs.uk", 5),          # no leading dot: would match only the bare name
    (".nhs uk", 5),
    (".nhs.uk", 0),
])
def test_squid_bump_extra_refuses_bad_settings(suffix: str, helpers: int) -> None:
    with pytest.raises(SetupError):
        squid_bump_extra(Path("/d"), Path("/ca"), Path("/h"), splice_suffix=suffix,
                         helpers=helpers)


def test_squid_port_options_name_the_shared_ca() -> None:
    options = squid_bump_port_options(Path("/w/bump-ca.pem"), Path("/w/bump-ca.key"))
    assert options.startswith("ssl-bump ")
    assert "generate-host-certificates=on" in options
    assert "tls-cert=/w/bump-ca.pem" in options and "tls-key=/w/bump-ca.key" in options


def test_webwarden_args() -> None:
    assert webwarden_https_args(Path("/w/ca"), Path("/w/o.pem"), Path("/w/hosts")) == (
        "--ca-dir", "/w/ca", "--upstream-ca-bundle", "/w/o.pem", "--hosts-file", "/w/hosts")


def test_stunnel_config_tunnels_through_the_proxy() -> None:
    text = stunnel_config(_client(), Path("/w/st.log"))
    settings = dict(line.split(" = ", 1) for line in text.splitlines() if " = " in line)
    assert settings["accept"] == "127.0.0.1:40001"
    assert settings["connect"] == "127.0.0.1:3128"
    assert settings["protocol"] == "connect"
    assert settings["protocolHost"] == "shop.bench.test:8443"
    assert settings["protocolAuthentication"] == "basic"
    assert (settings["protocolUsername"], settings["protocolPassword"]) == ("pc1001", "demo")
    assert settings["sni"] == settings["checkHost"] == "shop.bench.test"
    assert settings["CAfile"] == "/run/ca/ca-1.pem"
    assert settings["sessionResume"] == "no"


@pytest.mark.parametrize("changes", [
    {"listen_port": 0}, {"proxy_port": 65536}, {"site_port": -1},
    {"site": "shop.bench.test\nconnect = 10.0.0.1:25"}, {"site": ""},
    {"user": "pc:1001"}, {"password": ""}, {"password": "de mo"},
])
def test_stunnel_config_refuses_bad_values(changes: dict[str, object]) -> None:
    with pytest.raises(SetupError):
        stunnel_config(_client(**changes), Path("/w/st.log"))


def test_origin_certificate_names() -> None:
    ext = origin_cert_extensions(("shop.bench.test", "www.nhs.uk"))
    assert "subjectAltName=DNS:shop.bench.test,DNS:www.nhs.uk,IP:127.0.0.1" in ext
    assert "extendedKeyUsage=serverAuth" in ext
    with pytest.raises(SetupError):
        origin_ca_commands(Path("/w"), ())


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_origin_pki_verifies_for_its_names(tmp_path: Path) -> None:
    pki = make_origin_pki(tmp_path / "pki", ("shop.bench.test", "www.nhs.uk"))

    def verify(name: str) -> int:
        return subprocess.run(
            ["openssl", "verify", "-CAfile", str(pki.ca_cert), "-verify_hostname", name,
             str(pki.cert)], capture_output=True, timeout=30, check=False).returncode

    assert verify("shop.bench.test") == 0
    assert verify("www.nhs.uk") == 0
    assert verify("www.example.org") != 0


def test_squid_client_first_decides_on_the_connect_host() -> None:
    text = squid_bump_extra(Path("/w/ssl_db"), Path("/w/ca.pem"), Path("/w/hosts"), peek=False)
    lines = [line for line in text.splitlines() if line]
    assert "acl never_decrypt dstdomain .nhs.uk" in lines
    assert lines[-2:] == ["ssl_bump splice never_decrypt", "ssl_bump bump all"]
    assert not any("peek" in line or "server_name" in line for line in lines)
