-- wrk script: POST /oauth/introspect of one JWT access token, client_secret_basic.
wrk.method = "POST"
wrk.body = "token=" .. os.getenv("ACCESS_TOKEN")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BASIC")
dofile("bench/report.lua")
