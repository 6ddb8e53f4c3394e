-- wrk script: POST the JSON bodies of a file (one per line) in turn; with no file, plain GETs.
-- At the end, print one line "WRK_JSON {...}" with the totals and latency percentiles (µs).
--   wrk -t2 -c8 -d15s --latency -s bench/post_bodies.lua URL -- bodies.jsonl

local bodies = {}
local next_body = 0

function init(args)
  if args[1] == nil then
    return
  end
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    bodies[#bodies + 1] = line
  end
  file:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  if #bodies == 0 then
    return wrk.format()
  end
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[next_body])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "errors_connect": %d, "errors_read": %d, ' ..
    '"errors_write": %d, "errors_status": %d, "errors_timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout))
end
