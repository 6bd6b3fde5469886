-- wrk script for hangar's load benchmark (bench/load/wrk.ts runs it).
--
--   wrk ... -s requests.lua URL -- <requests file> <threads> <body bytes> <unique block bytes> <count statuses>
--
-- The requests file (written by bench/load/presign.ts) holds one presigned request per line,
-- "METHOD PATH?QUERY". Thread i of n takes lines i, i+n, i+2n ... and cycles through them.
-- PUT lines carry a body of <body bytes>; with <unique block bytes> > 0 every block of that size
-- starts with a stamp unique to the request, so a deduplicating store cannot skip any block.
-- With <count statuses> = 1 every response's status is counted (wrk then buffers bodies, so the
-- 64 MiB GET turns it off and relies on wrk's own count of statuses > 399).
-- done() prints one line "WRKJSON {...}" for the runner.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local count_statuses = os.getenv("WRK_COUNT_STATUSES") ~= "0"

statuses = {}
local reqs = {}
local bodies = {}
local n = 0
local i = 0
local body_bytes = 0
local block_bytes = 0
local filler = nil
local small_body = nil
local host = nil
local stamp = 0

function init(args)
  -- wrk.init (which calls this function) has already set wrk.headers["Host"].
  host = wrk.headers["Host"]
  local file = args[1]
  local nthreads = tonumber(args[2])
  body_bytes = tonumber(args[3])
  block_bytes = tonumber(args[4])
  local index = 0
  for line in io.lines(file) do
    if index % nthreads == id then
      local sp = line:find(" ", 1, true)
      local method = line:sub(1, sp - 1)
      local path = line:sub(sp + 1)
      n = n + 1
      if method == "PUT" then
        reqs[n] = path
        bodies[n] = true
      else
        reqs[n] = wrk.format(method, path)
        bodies[n] = false
      end
    end
    index = index + 1
  end
  if n == 0 then
    error("no requests for thread " .. id .. " in " .. file)
  end
  if block_bytes > 0 then
    filler = string.rep("x", block_bytes - 32)
  else
    small_body = string.rep("x", body_bytes)
  end
end

local function put_request(path)
  local head = "PUT " .. path .. " HTTP/1.1\r\nHost: " .. host ..
    "\r\nContent-Length: " .. body_bytes .. "\r\n\r\n"
  if block_bytes == 0 then
    return head .. small_body
  end
  stamp = stamp + 1
  local parts = { head }
  local left = body_bytes
  local b = 0
  while left > 0 do
    local tag = string.format("%08x%08x%016x", id, stamp, b)
    if left >= block_bytes then
      parts[#parts + 1] = tag
      parts[#parts + 1] = filler
      left = left - block_bytes
    else
      parts[#parts + 1] = (tag .. filler):sub(1, left)
      left = 0
    end
    b = b + 1
  end
  return table.concat(parts)
end

function request()
  i = i + 1
  if i > n then i = 1 end
  if bodies[i] then
    return put_request(reqs[i])
  end
  return reqs[i]
end

if count_statuses then
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then
      for k, v in pairs(s) do
        merged[k] = (merged[k] or 0) + v
      end
    end
  end
  local st = {}
  for k, v in pairs(merged) do
    st[#st + 1] = string.format('"%d":%d', k, v)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"statuses":{%s},"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(st, ","),
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
