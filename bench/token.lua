-- wrk script: POST /oauth/token with client_secret_basic, form body.
-- CLIENT_ID and CLIENT_SECRET come from the environment (bench/token.sh sets them); TOKEN_EXTRA
-- is appended to the body (e.g. `&resource=…`).
local mime = function(s)
  local b = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  return ((s:gsub('.', function(x)
    local r, byte = '', x:byte()
    for i = 8, 1, -1 do r = r .. (byte % 2 ^ i - byte % 2 ^ (i - 1) > 0 and '1' or '0') end
    return r
  end) .. '0000'):gsub('%d%d%d?%d?%d?%d?', function(x)
    if #x < 6 then return '' end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == '1' and 2 ^ (6 - i) or 0) end
    return b:sub(c + 1, c + 1)
  end) .. ({ '', '==', '=' })[#s % 3 + 1])
end

wrk.method = "POST"
wrk.body = "grant_type=client_credentials" .. (os.getenv("TOKEN_EXTRA") or "")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. mime(os.getenv("CLIENT_ID") .. ":" .. os.getenv("CLIENT_SECRET"))

dofile("bench/report.lua")
