-- wrk script: POST /oauth/token grant_type=refresh_token, each request with a token of its own
-- (a refresh token works once). Tokens come one per line from $REFRESH_TOKENS (a file).
local tokens = {}
local next_token = 0
for line in io.lines(os.getenv("REFRESH_TOKENS")) do tokens[#tokens + 1] = line end
local client_id = os.getenv("CLIENT_ID")

request = function()
  next_token = next_token + 1
  local token = tokens[next_token] or "rt_exhausted"
  return wrk.format("POST", nil, { ["Content-Type"] = "application/x-www-form-urlencoded" },
    "grant_type=refresh_token&client_id=" .. client_id .. "&refresh_token=" .. token)
end

dofile("bench/report.lua")
