"""The origin every target fetches from: one nginx worker on loopback.

It serves a 1 KiB file over HTTP (request rate), a 1 MiB file over HTTPS with a
certificate made for this run (CONNECT throughput) and the page squidGuard
redirects blocked requests to. Its access log (buffered, one `path status` pair
per line) tells how many requests really reached the origin.
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from gatewaybench.procs import LOOPBACK, Supervisor, free_port, wait_port

SIZE_1K = 1024
SIZE_1M = 1024 * 1024
BLOCKED_MARKER = "blocked-by-squidguard"
ORIGIN_HEADER = "x-bench-origin"
# nginx writes its buffered access log at least this often.
LOG_FLUSH_SECONDS = 1


@dataclass
class Origin:
    http_port: int
    https_port: int
    access_log: Path
    pid: int = 0
    _log_offset: int = 0

    @property
    def url_1k(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}/1k"

    @property
    def url_1m(self) -> str:
        return f"https://{LOOPBACK}:{self.https_port}/1m"

    @property
    def url_blocked(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}/blocked"

    def new_hits(self) -> Counter[str]:
        """Requests logged since the previous call, counted by `path status`.

        Waits for nginx's buffered log to be flushed first, so call it after a run.
        """
        time.sleep(LOG_FLUSH_SECONDS + 0.5)
        with open(self.access_log, "rb") as log:
            log.seek(self._log_offset)
            data = log.read()
        # Only whole lines: a partial last line is counted next time.
        complete = data[: data.rfind(b"\n") + 1]
        self._log_offset += len(complete)
        hits: Counter[str] = Counter()
        for line in complete.decode("ascii", "replace").splitlines():
            path, _, status = line.partition(" ")
            hits[f"{path.split('?', 1)[0]} {status}"] += 1
        return hits


def _nginx_conf(d: Path, www: Path, http_port: int, https_port: int) -> str:
    # Enough for every load here, and within the descriptors the process may open.
    connections = min(8192, resource.getrlimit(resource.RLIMIT_NOFILE)[0] // 2)
    return f"""
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    log_format hits '$request_uri $status';
    access_log {d}/access.log hits buffer=64k flush={LOG_FLUSH_SECONDS}s;
    sendfile on; tcp_nopush on; tcp_nodelay on;
    keepalive_timeout 65; keepalive_requests 10000000;
    open_file_cache max=16 inactive=600s; open_file_cache_valid 600s;
    default_type application/octet-stream;
    client_body_temp_path {d}/tmp/body; proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fcgi; uwsgi_temp_path {d}/tmp/uwsgi; scgi_temp_path {d}/tmp/scgi;
    server {{
        listen {LOOPBACK}:{http_port} backlog=4096;
        root {www};
        add_header X-Bench-Origin nginx always;
    }}
    server {{
        listen {LOOPBACK}:{https_port} ssl backlog=4096;
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:10m;
        root {www};
        add_header X-Bench-Origin nginx always;
    }}
}}
"""


def start_origin(supervisor: Supervisor, work: Path,
                 cert: tuple[Path, Path] | None = None) -> Origin:
    """Start nginx; `cert` (certificate, key) replaces the self-signed one made here
    (the HTTPS benchmark gives one issued by a CA of its own, for its site names)."""
    d = work / "origin"
    www = d / "www"
    (d / "tmp").mkdir(parents=True, exist_ok=True)
    www.mkdir(exist_ok=True)
    # Fixed pseudo-random bytes: incompressible, and the same in every run.
    rnd = random.Random(1)
    (www / "1k").write_bytes(rnd.randbytes(SIZE_1K))
    (www / "1m").write_bytes(rnd.randbytes(SIZE_1M))
    (www / "blocked").write_text(f"{BLOCKED_MARKER}\n")
    if cert is not None:
        (d / "cert.pem").write_bytes(cert[0].read_bytes())
        (d / "key.pem").write_bytes(cert[1].read_bytes())
    else:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={LOOPBACK}", "-addext",
             f"subjectAltName=IP:{LOOPBACK},DNS:localhost",
             "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    # nginx workers drop to an unprivileged user when started as root.
    os.chmod(d / "key.pem", 0o644)
    for path in (d, www, d / "tmp"):
        os.chmod(path, 0o755)
    http_port, https_port = free_port(), free_port()
    conf = d / "nginx.conf"
    conf.write_text(_nginx_conf(d, www, http_port, https_port))
    # -e: nginx's startup errors go to our file, not to the system log directory.
    argv = ["nginx", "-e", str(d / "error.log"), "-c", str(conf)]
    subprocess.run([*argv, "-t", "-q"], check=True, timeout=30)
    proc = supervisor.start("origin", argv, d / "stdout.log")
    wait_port(http_port, proc)
    wait_port(https_port, proc)
    return Origin(http_port=http_port, https_port=https_port, access_log=d / "access.log",
                  pid=proc.pid)
