-- make bench: GET /Users?filter=userName eq "bench-<n>", n random over the
-- preloaded users (each answer holds one user).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

-- Success is 200 OK; any other status fails the run (common.lua).
expected = 200

local headers

function init(args)
  seed()
  headers = { ["Authorization"] = "Bearer " .. token }
end

function request()
  local n = math.random(1, users)
  return wrk.format("GET", base .. "/Users?filter=userName%20eq%20%22bench-" .. n .. "%22", headers)
end
