-- make bench: what the wrk scripts share. Settings come from the environment
-- (run.sh sets them): BENCH_TOKEN, BENCH_TENANT, BENCH_RUN, BENCH_USERS,
-- BENCH_IDS_FILE.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

token = os.getenv("BENCH_TOKEN") or "bench-token"
tenant = os.getenv("BENCH_TENANT") or "bench"
run = os.getenv("BENCH_RUN") or tostring(os.time())
users = tonumber(os.getenv("BENCH_USERS") or "1000000")
base = "/scim/v2/" .. tenant

-- Each thread learns its number (setup runs in the main Lua state, the
-- others in each thread's own state).
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function seed()
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
end
