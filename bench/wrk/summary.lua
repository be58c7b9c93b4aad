-- Shared by create.lua and get.lua: one machine-readable line at the end of a wrk run.
-- Latencies are in microseconds in wrk; reported in milliseconds.
function summary_line(summary, latency)
  local e = summary.errors
  io.write(string.format(
    'RESULT "requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,' ..
    '"non_2xx":%d,"socket_errors":%d\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
