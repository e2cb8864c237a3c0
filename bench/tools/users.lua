-- Every row is loaded with the same requests: GET <path> with an x-user-id drawn from a fixed pool, so the canary's
-- sticky split sees many users and every row pays the same load-generator cost. Requests are formatted once in
-- init(); request() only picks one. Seeds are fixed per thread, so each run sends the same sequence.
local pool = tonumber(os.getenv("BENCH_USERS") or "1000")
-- Paced rows: each connection waits this long after an answer before its next request, so the offered rate stays
-- far below capacity and latency shows service time rather than queueing.
local delayMs = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local threads = 0
local reqs = {}

function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  math.randomseed(seed or 1)
  for i = 1, pool do
    reqs[i] = wrk.format("GET", wrk.path, { ["x-user-id"] = "user-" .. i })
  end
end

function request()
  return reqs[math.random(pool)]
end

if delayMs > 0 then
  function delay()
    return delayMs
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"durationUs":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%f}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
