-- wrk script: POST /oauth/token grant_type=authorization_code, each request with a code of its
-- own (a code works once). Codes come one per line from $CODES (a file).
local codes = {}
local next_code = 0
for line in io.lines(os.getenv("CODES")) do codes[#codes + 1] = line end
local client_id = os.getenv("CLIENT_ID")

request = function()
  next_code = next_code + 1
  local code = codes[next_code] or "exhausted"
  return wrk.format("POST", nil, { ["Content-Type"] = "application/x-www-form-urlencoded" },
    "grant_type=authorization_code&client_id=" .. client_id .. "&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&code=" .. code)
end

dofile("bench/report.lua")
