-- wrk script of the bench: an optional method and JSON body from the environment, a count of answers whose
-- status is not the expected one (wrk itself counts only 4xx/5xx, so a redirect to the login page would pass),
-- and one JSON line with the figures bench/loadgen.py reads.
local expected = tonumber(os.getenv("BENCH_EXPECT_STATUS") or "200")
local method = os.getenv("BENCH_METHOD")
local body_file = os.getenv("BENCH_BODY_FILE")
local threads = {}

if method then
  wrk.method = method
end
if body_file then
  local file = assert(io.open(body_file, "rb"))
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = "application/json"
end

unexpected = 0

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("unexpected") or 0)
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "unexpected": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "timeouts": %d, "latency_mean_us": %.1f, ' ..
    '"latency_p50_us": %d, "latency_p90_us": %d, "latency_p99_us": %d}\n',
    summary.requests, summary.duration, bad, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency.mean, latency:percentile(50),
    latency:percentile(90), latency:percentile(99)))
end
