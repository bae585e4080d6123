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
-- others in each thread's own state); the main state keeps the threads so
-- that done() can add up what each one counted.
local threads = 0
all_threads = {}
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
  all_threads[threads] = thread
end

-- The status a request of this script must get (each script sets it);
-- anything else is counted, by status, and fails the run's verdict (wrk's
-- own count only sees statuses >= 400, so a 200 for a create or a 304 for
-- a GET would pass as success).
expected = 200
unexpected = 0
unexpected_by_status = ""
local other = {}
function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
    other[status] = (other[status] or 0) + 1
    -- Kept as text: what done() reads from a thread is copied between Lua
    -- states, and a string is the plainest thing to copy.
    local parts = {}
    for s, n in pairs(other) do parts[#parts + 1] = s .. ":" .. n end
    table.sort(parts)
    unexpected_by_status = table.concat(parts, ",")
  end
end

function seed()
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
end
