-- wrk script: GET with `Authorization: Bearer $API_KEY` (none when it is empty), at RATE
-- requests per second in all (one wrk thread): each request takes the next slot of a schedule
-- and waits for it, or goes at once when the server is behind, dropping the slots it is more
-- than a millisecond behind. Delays are whole milliseconds (wrk's timers), so the requests due
-- in one millisecond leave together. wrk times a request from when it is sent, so a stall
-- delays the requests after it without counting their wait (no correction for coordinated
-- omission, as wrk2 would make).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } paced_timespec;
  int clock_gettime(int clock, paced_timespec *now);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("paced_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

-- The hello-world's runs set no API_KEY: they send what its saturated run sends.
local api_key = os.getenv("API_KEY")
if api_key and api_key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. api_key
end
local interval_ms = 1000 / tonumber(os.getenv("RATE"))
local due

function delay()
  local now = now_ms()
  due = math.max(due or now, now - 1) + interval_ms
  return math.max(due - now, 0)
end

dofile("bench/report.lua")
