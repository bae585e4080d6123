-- make bench: POST /Users, a ~1.3 KB user with a userName unique per request.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

-- Success is 201 Created; any other status fails the run (common.lua).
expected = 201

local k = 0
local headers

function init(args)
  headers = write_headers()
end

function request()
  k = k + 1
  local name = string.format("bench-c-%s-%d-%d", run, tid, k)
  return wrk.format("POST", base .. "/Users", headers, user_json(name))
end
