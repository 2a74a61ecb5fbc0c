-- Requests <prefix><n><suffix> for n = first..last, each thread its own stride, so every request
-- names a file this run has not asked for yet (while n lasts): the registry's cache-miss path.
-- Counts the x-modelgate-cache answers and prints the BENCH_JSON line summary.lua prints, plus them.
-- Arguments after `--`: prefix suffix first last
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  prefix, suffix = args[1], args[2]
  first, last = tonumber(args[3]), tonumber(args[4])
  stride = #threads > 0 and #threads or 1
  n = first + id
  hits, misses = 0, 0
end

function request()
  local path = prefix .. n .. suffix
  n = n + stride
  if n > last then n = first + id end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  local state = headers["x-modelgate-cache"] or headers["X-Modelgate-Cache"]
  if state == "hit" then hits = hits + 1 elseif state == "miss" then misses = misses + 1 end
end

done = function(summary, latency, requests)
  local h, m = 0, 0
  for _, t in ipairs(threads) do
    h = h + t:get("hits")
    m = m + t:get("misses")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d},' ..
    '"cache":{"hit":%d,"miss":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    h, m))
end
