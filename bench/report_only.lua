-- wrk script: a plain GET, reporting the figures bench/*.sh print.
dofile("bench/report.lua")
