-- wrk script for bench/loadgen.py: `wrk ... -s wrk_report.lua URL -- [BODY_FILE [CONTENT_TYPE [LIMIT]]]`.
-- With a body file the request is a POST of that file; LIMIT > 0 stops each thread after that many responses.
-- At the end it prints one JSON line (prefixed "RESULT ") with the counts and latency percentiles in µs.

local limit = 0
local seen = 0

function init(args)
  if args[1] and args[1] ~= "" then
    local file = assert(io.open(args[1], "rb"))
    wrk.method = "POST"
    wrk.body = file:read("*a")
    file:close()
    wrk.headers["Content-Type"] = args[2] or "application/json"
  end
  limit = tonumber(args[3] or "0") or 0
  if limit > 0 then
    -- Defining response() makes wrk parse every reply; only then can a thread count and stop.
    response = function(status, headers, body)
      seen = seen + 1
      if seen >= limit then wrk.thread:stop() end
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "timeouts": %d, "non_2xx": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
