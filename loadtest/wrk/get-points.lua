-- wrk script: GET /collections/<collection>/points/<id> with ids spread over [0, points).
-- usage: wrk -s loadtest/wrk/get-points.lua URL -- COLLECTION POINTS
local collection = "bench"
local points = 60000
local counter = 0

function init(args)
  if args[1] then collection = args[1] end
  if args[2] then points = tonumber(args[2]) end
  counter = math.random(0, points - 1)
end

function request()
  -- a fixed stride walks every id without a random generator on the hot path
  counter = (counter + 7919) % points
  return wrk.format("GET", "/collections/" .. collection .. "/points/" .. counter)
end

function done(summary, latency, requests)
  io.write(string.format("WRK_JSON {\"requests\":%d,\"duration_us\":%d,\"errors_status\":%d,\"errors_connect\":%d,\"errors_read\":%d,\"errors_timeout\":%d,\"rps\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.timeout, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
