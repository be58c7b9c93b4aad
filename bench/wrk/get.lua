-- GET the results of one session (its id is in the URL given to wrk).
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "summary.lua")
wrk.method = "GET"
done = function(summary, latency, requests) summary_line(summary, latency) end
