-- POST a new session per request (no Idempotency-Key: every request is a new attempt).
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "summary.lua")
wrk.method = "POST"
wrk.body = ""
done = function(summary, latency, requests) summary_line(summary, latency) end
