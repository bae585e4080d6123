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

-- A ~1.3 KB user (create.lua's, and each operation of bulk.lua's), its
-- userName and the attributes made from it `name`.
local user_template = [[{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"{U}","externalId":"ext-{U}","name":{"formatted":"Ms. Barbara J Jensen III","familyName":"Jensen","givenName":"Barbara","middleName":"Jane","honorificPrefix":"Ms.","honorificSuffix":"III"},"displayName":"Barbara Jensen","nickName":"Barbara","profileUrl":"https://login.example.com/{U}","title":"Tour Guide","userType":"Employee","preferredLanguage":"en-US","locale":"en-US","timezone":"America/Los_Angeles","active":true,"emails":[{"value":"{U}@example.com","type":"work","primary":true},{"value":"{U}@home.example.org","type":"home"}],"phoneNumbers":[{"value":"555-555-0001","type":"work"},{"value":"555-444-0001","type":"mobile"}],"addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood","region":"CA","postalCode":"91608","country":"USA","formatted":"100 Universal City Plaza\nHollywood, CA 91608 USA","primary":true}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"{U}","costCenter":"4130","organization":"Universal Studios","division":"Theme Park","department":"Tour Operations","manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d"}}}]]
function user_json(name)
  return (user_template:gsub("{U}", name))
end

-- The headers of a write: the token, a SCIM body.
function write_headers()
  return {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/scim+json",
  }
end
