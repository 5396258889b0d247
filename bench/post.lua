-- wrk script: POST $BODY as JSON with `Authorization: Bearer $API_KEY`.
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("API_KEY")
dofile("bench/report.lua")
