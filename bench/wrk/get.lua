-- GET the results of one session (its id is in the URL given to wrk; its session token,
-- which liveness-api requires, in $SESSION_TOKEN).
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "summary.lua")
wrk.method = "GET"
local token = os.getenv("SESSION_TOKEN")
if token and token ~= "" then
  wrk.headers["X-Liveness-Session-Token"] = token
end
done = function(summary, latency, requests) summary_line(summary, latency) end
