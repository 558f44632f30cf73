"""What the HTTPS benchmark sets up besides the HTTP one: the origin's own CA and
certificate, the hosts file both proxies resolve the test names with, Squid's
ssl_bump settings, webwarden's interception options, and the stunnel client
that turns wrk's plain connections into CONNECT + TLS through a proxy.

The config writers are pure (text from the values given); the functions that run
openssl, `webwarden ca init` or stunnel are kept apart below them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gatewaybench.procs import LOOPBACK, Supervisor, wait_port

# Uncategorised in the shipped lists, so the default policy decrypts it.
DECRYPT_HOST = "shop.bench.test"
# Health (UK supplement): allowed for the demo officer without a notice and never
# decrypted by the 2013 regime, so both proxies splice it.
SPLICE_HOST = "www.nhs.uk"
SPLICE_SUFFIX = ".nhs.uk"
CERTGEN = "/usr/lib/squid/security_file_certgen"
# Memory for Squid's minted certificates, in its own cache and in the helper's db.
SQUID_CERT_CACHE = "16MB"


class SetupError(RuntimeError):
    pass


def _check_name(name: str) -> str:
    # Config lines are built from these; a space or newline would change their meaning.
    if not name or any(ch.isspace() or ch in "#\"'\\" for ch in name):
        raise SetupError(f"not usable as a host name in a config file: {name!r}")
    return name


def _check_port(port: int) -> int:
    if not 0 < port < 65536:
        raise SetupError(f"port out of range: {port}")
    return port


def hosts_text(address: str, names: tuple[str, ...]) -> str:
    """A hosts file (/etc/hosts form) that maps every name to `address`."""
    if not names:
        raise SetupError("a hosts file needs at least one name")
    return f"{_check_name(address)} {' '.join(_check_name(n) for n in names)}\n"


def squid_bump_port_options(ca_cert: Path, ca_key: Path) -> str:
    """Options of Squid's http_port line: bump with certificates minted by the CA."""
    return (f"ssl-bump generate-host-certificates=on "
            f"dynamic_cert_mem_cache_size={SQUID_CERT_CACHE} "
            f"tls-cert={ca_cert} tls-key={ca_key}")


def squid_bump_extra(cert_db: Path, origin_ca: Path, hosts_file: Path,
                     splice_suffix: str = SPLICE_SUFFIX, helpers: int = 5,
                     peek: bool = True) -> str:
    """Squid settings for interception: peek at the ClientHello, splice the
    never-decrypted domain (by its SNI), bump every other tunnel, trust the origin's CA.

    peek=False decides on the CONNECT's host alone at step 1 and bumps there
    (client-first): Squid then keeps its per-host TLS contexts, which it does not
    reuse once step 1 has peeked, but it cannot see the SNI.
    """
    if helpers < 1:
        raise SetupError(f"at least one certificate helper is needed, not {helpers}")
    if not splice_suffix.startswith("."):
        raise SetupError(f"the splice suffix must start with a dot: {splice_suffix!r}")
    _check_name(splice_suffix)
    if peek:
        rules = f"""acl step1 at_step SslBump1
acl never_decrypt ssl::server_name {splice_suffix}
ssl_bump peek step1
ssl_bump splice never_decrypt
ssl_bump bump all"""
    else:
        rules = f"""acl never_decrypt dstdomain {splice_suffix}
ssl_bump splice never_decrypt
ssl_bump bump all"""
    return f"""
sslcrtd_program {CERTGEN} -s {cert_db} -M {SQUID_CERT_CACHE}
sslcrtd_children {helpers} startup=1 idle=1
tls_outgoing_options cafile={origin_ca}
hosts_file {hosts_file}
{rules}
"""


def webwarden_https_args(ca_dir: Path, origin_ca: Path, hosts_file: Path) -> tuple[str, ...]:
    """`webwarden gateway` options for interception against the benchmark's origin."""
    return ("--ca-dir", str(ca_dir), "--upstream-ca-bundle", str(origin_ca),
            "--hosts-file", str(hosts_file))


@dataclass(frozen=True)
class TunnelClient:
    """What the stunnel client opens for each connection wrk makes to it."""
    listen_port: int
    proxy_port: int
    site: str
    site_port: int
    ca_file: Path
    user: str
    password: str


def stunnel_config(client: TunnelClient, log_path: Path) -> str:
    """stunnel in client mode: for each accepted connection, CONNECT site:port through
    the proxy (Basic proxy authentication), then TLS with SNI, the certificate
    verified against `ca_file` for the site's name; sessions never resumed, so a new
    connection is a full handshake with the proxy."""
    site = _check_name(client.site)
    for value in (client.user, client.password):
        if not value or any(ch.isspace() or ch == ":" for ch in value):
            raise SetupError(f"user and password must be non-empty, without spaces or "
                             f"colons: {value!r}")
    return f"""foreground = yes
pid =
syslog = no
output = {log_path}
debug = 4

[tunnel]
client = yes
accept = {LOOPBACK}:{_check_port(client.listen_port)}
connect = {LOOPBACK}:{_check_port(client.proxy_port)}
protocol = connect
protocolHost = {site}:{_check_port(client.site_port)}
protocolAuthentication = basic
protocolUsername = {client.user}
protocolPassword = {client.password}
sni = {site}
CAfile = {client.ca_file}
verifyChain = yes
checkHost = {site}
sessionResume = no
"""


def origin_ca_commands(d: Path, names: tuple[str, ...]) -> list[list[str]]:
    """openssl commands that make a throw-away CA in `d` and a certificate for `names`
    (and 127.0.0.1) issued by it: origin-ca.pem, origin.pem, origin.key; the
    certificate's extensions are read from origin.ext (`origin_cert_extensions`)."""
    if not names:
        raise SetupError("the origin certificate needs at least one name")
    ca_key, ca_cert = d / "origin-ca.key", d / "origin-ca.pem"
    key, csr, cert = d / "origin.key", d / "origin.csr", d / "origin.pem"
    return [
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "2", "-subj", "/CN=bench origin CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-keyout", str(ca_key), "-out", str(ca_cert)],
        ["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-subj", f"/CN={names[0]}", "-keyout", str(key), "-out", str(csr)],
        ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
         "-CAcreateserial", "-days", "2", "-out", str(cert),
         "-extfile", str(d / "origin.ext")],
    ]


def origin_cert_extensions(names: tuple[str, ...]) -> str:
    """The extension section openssl x509 -extfile reads for the origin certificate."""
    san = ",".join([*(f"DNS:{_check_name(n)}" for n in names), f"IP:{LOOPBACK}"])
    return (f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
            "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n")


# Below: the parts that run programs and write files.

@dataclass(frozen=True)
class OriginPki:
    ca_cert: Path
    cert: Path
    key: Path


def make_origin_pki(d: Path, names: tuple[str, ...]) -> OriginPki:
    """Make the origin's CA and certificate in `d` with openssl."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "origin.ext").write_text(origin_cert_extensions(names))
    for argv in origin_ca_commands(d, names):
        subprocess.run(argv, check=True, timeout=60, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    return OriginPki(ca_cert=d / "origin-ca.pem", cert=d / "origin.pem", key=d / "origin.key")


def init_webwarden_ca(webwarden: Path, ca_dir: Path) -> tuple[Path, Path]:
    """`webwarden ca init --dir ca_dir`; returns the CA's certificate and key."""
    subprocess.run([str(webwarden), "ca", "init", "--dir", str(ca_dir)], check=True,
                   timeout=120, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    cert, key = ca_dir / "ca-1.pem", ca_dir / "ca-1.key"
    if not (cert.exists() and key.exists()):
        raise SetupError(f"webwarden ca init made no ca-1.pem/ca-1.key in {ca_dir}")
    return cert, key


def squid_ca_copy(ca_cert: Path, ca_key: Path, d: Path) -> tuple[Path, Path]:
    """The same CA for Squid, copied where its unprivileged user can read it."""
    d.mkdir(parents=True, exist_ok=True)
    cert, key = d / "bump-ca.pem", d / "bump-ca.key"
    shutil.copyfile(ca_cert, cert)
    shutil.copyfile(ca_key, key)
    os.chmod(key, 0o600)
    return cert, key


def init_certgen_db(db: Path) -> None:
    """Squid's certificate helper needs its database made before Squid starts."""
    if db.exists():
        shutil.rmtree(db)
    subprocess.run([CERTGEN, "-c", "-s", str(db), "-M", SQUID_CERT_CACHE], check=True,
                   timeout=60, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start_stunnel(supervisor: Supervisor, name: str, d: Path, client: TunnelClient
                  ) -> subprocess.Popen[bytes]:
    """Start the stunnel client (one per proxy slot) and wait until it listens."""
    d.mkdir(parents=True, exist_ok=True)
    conf = d / f"{name}.conf"
    conf.write_text(stunnel_config(client, d / f"{name}.log"))
    proc = supervisor.start(name, ["stunnel", str(conf)], d / f"{name}.stdout")
    wait_port(client.listen_port, proc)
    return proc
