-- wrk script for bench/gateway_bench.py: load a forward proxy.
--
-- wrk has no notion of a proxy. Pointing it at the proxy's port and sending an
-- absolute-form request-target (RFC 9112, 3.2.2) is exactly what a browser with
-- an explicit proxy does:
--
--     GET http://127.0.0.1:PORT/1k HTTP/1.1
--     Host: 127.0.0.1:PORT
--
-- Environment:
--   WRK_TARGET  absolute URL of the origin resource; when empty, wrk sends the
--               origin-form path from its command line (the "direct" baseline).
-- Other headers (Proxy-Authorization, Connection: close) come from wrk -H.
--
-- The request is set once at load time (no request() function), so wrk builds
-- it a single time and Lua costs nothing per request. done() prints one line
-- that gateway_bench.py parses.

local target = os.getenv("WRK_TARGET")
if target ~= nil and target ~= "" then
  wrk.path = target
  wrk.headers["Host"] = target:match("^http://([^/]+)")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,' ..
    '"lat_mean_us":%.1f,"lat_p50_us":%d,"lat_p90_us":%d,"lat_p99_us":%d,"lat_max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
