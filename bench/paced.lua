-- wrk script: GET with `Authorization: Bearer $API_KEY`, at RATE requests per second in all
-- (one wrk thread): each request takes the next slot of a fixed schedule and waits for it, or
-- goes at once when the server is behind. wrk times a request from when it is sent, so a
-- stall delays the requests after it without counting their wait (no correction for
-- coordinated omission, as wrk2 would make). Delays are whole milliseconds (wrk's timers).
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

wrk.headers["Authorization"] = "Bearer " .. os.getenv("API_KEY")
local interval_ms = 1000 / tonumber(os.getenv("RATE"))
local due

function delay()
  local now = now_ms()
  due = math.max(due or now, now - 1) + interval_ms
  return math.max(due - now, 0)
end

dofile("bench/report.lua")
