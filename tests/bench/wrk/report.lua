-- make bench: the summary line every wrk script prints, parsed by run.sh.
-- Latencies in ms. unexpected: responses with another status than the
-- script's `expected` (by status in `statuses`, e.g. 409:3,500:1); ok_rps
-- counts only the expected ones. non2xx is wrk's own count (status >= 400).
function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  local bad, by = 0, {}
  for _, t in ipairs(all_threads or {}) do
    bad = bad + (t:get("unexpected") or 0)
    for status, n in string.gmatch(t:get("unexpected_by_status") or "", "(%d+):(%d+)") do
      by[status] = (by[status] or 0) + tonumber(n)
    end
  end
  local parts = {}
  for status, n in pairs(by) do parts[#parts + 1] = status .. ":" .. n end
  table.sort(parts)
  local statuses = #parts > 0 and table.concat(parts, ",") or "-"
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f ok_rps=%.1f mean_ms=%.2f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f expected=%d unexpected=%d statuses=%s non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, secs, summary.requests / secs, (summary.requests - bad) / secs,
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, expected, bad, statuses,
    e.status, e.connect, e.read, e.write, e.timeout))
end
