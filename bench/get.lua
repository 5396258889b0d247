-- wrk script: GET with `Authorization: Bearer $API_KEY`.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("API_KEY")
dofile("bench/report.lua")
