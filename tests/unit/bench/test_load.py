from __future__ import annotations

import pytest

from gatewaybench.load import parse_wrk, proxy_auth_header

WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:3128/1k
  2 threads and 50 connections
WRKJSON {"requests":30000,"duration_us":3000000,"bytes":42000000,"err_connect":1,\
"err_read":7,"err_write":0,"err_status":2,"err_timeout":3,"lat_mean_us":5000.5,\
"lat_p50_us":4000,"lat_p90_us":8000,"lat_p99_us":16000,"lat_max_us":90000}
"""


def test_parse_wrk_reads_the_summary_line() -> None:
    run = parse_wrk(WRK_OUTPUT)
    assert run.requests == 30000
    assert run.duration_s == 3.0
    assert run.rps == 10000.0
    assert run.lat_p99_us == 16000


def test_read_errors_are_not_failures() -> None:
    # With Connection: close, a server closing after its answer shows up as a read error.
    assert parse_wrk(WRK_OUTPUT).errors == 1 + 2 + 3


def test_parse_wrk_without_summary_fails_with_the_output() -> None:
    with pytest.raises(RuntimeError, match="unable to connect"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_proxy_auth_header_is_basic_for_the_demo_user() -> None:
    assert proxy_auth_header() == "Proxy-Authorization: Basic cGMxMDAxOmRlbW8="
