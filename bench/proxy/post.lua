-- wrk script for bench/proxy: POSTs an OpenAI chat-completions request whose body is
-- BODY_BYTES long (default 2048), and prints one machine-readable RESULT line at the end.
local size = tonumber(os.getenv("BODY_BYTES") or "2048")

local prefix = '{"model":"gpt-4o-mini","stream":false,"messages":[' ..
  '{"role":"system","content":"You are a concise assistant for an internal support team."},' ..
  '{"role":"user","content":"'
local suffix = '"}]}'
local words = { "please", "summarise", "the", "following", "ticket", "about", "a", "slow",
  "build", "pipeline", "and", "suggest", "next", "steps", "for", "our", "team", "today" }
local parts, n, i = {}, 0, 0
local want = size - #prefix - #suffix
while n < want do
  i = i + 1
  local w = words[(i - 1) % #words + 1] .. " "
  parts[#parts + 1] = w
  n = n + #w
end
local filler = table.concat(parts):sub(1, math.max(want, 0))

wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-not-a-real-key"
wrk.body = prefix .. filler .. suffix

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout + summary.errors.status
  io.write(string.format("RESULT %.1f %.1f %.1f %d %d\n", summary.requests / secs,
    latency:percentile(50), latency:percentile(99), errors, summary.requests))
end
