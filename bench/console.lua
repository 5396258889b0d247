-- wrk script: GET with the console session cookie of $COOKIE.
wrk.headers["Cookie"] = os.getenv("COOKIE")
dofile("bench/report.lua")
