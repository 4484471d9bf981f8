-- wrk script for bench/polling.py: cycles through the GET requests listed in the file
-- named by WRK_REQUESTS, one per line: <path>\t<header: value>\t<header: value>...
-- Each thread starts at its own place in the list. At the end it prints one line,
-- "BENCH_JSON {...}": requests, duration, errors, latency percentiles (microseconds)
-- and the count of each response status.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

local requests = {}
local next_index = 1
statuses = {}

local function split(line)
   local fields = {}
   for field in string.gmatch(line, "[^\t]+") do
      table.insert(fields, field)
   end
   return fields
end

function init(args)
   for line in io.lines(os.getenv("WRK_REQUESTS")) do
      local fields = split(line)
      local headers = {}
      for i = 2, #fields do
         local name, value = string.match(fields[i], "^([^:]+):%s*(.*)$")
         headers[name] = value
      end
      table.insert(requests, wrk.format("GET", fields[1], headers))
   end
   if #requests == 0 then
      error("no requests in " .. os.getenv("WRK_REQUESTS"))
   end
   next_index = (id * 7919) % #requests + 1
end

function request()
   local r = requests[next_index]
   next_index = next_index % #requests + 1
   return r
end

function response(status, headers, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
   local counts = {}
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses")) do
         counts[status] = (counts[status] or 0) + n
      end
   end
   local parts = {}
   for status, n in pairs(counts) do
      table.insert(parts, string.format('"%s": %d', status, n))
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, ' ..
      '"statuses": {%s}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.mean, latency.max, table.concat(parts, ", ")))
end
