-- make bench: PATCH /Users/<id>, `replace title`, on random preloaded users
-- (ids from BENCH_IDS_FILE, one per line). The value changes every request,
-- so every PATCH is a real write.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

-- Success is 200 OK with the resource; any other status (204 included)
-- fails the run (common.lua).
expected = 200

local ids = {}
local headers
local k = 0

function init(args)
  seed()
  local file = assert(os.getenv("BENCH_IDS_FILE"), "BENCH_IDS_FILE is not set")
  for line in io.lines(file) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  assert(#ids > 0, "no ids in " .. file)
  headers = write_headers()
end

function request()
  k = k + 1
  local id = ids[math.random(1, #ids)]
  local body = string.format(
    '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Title %s-%d-%d"}]}',
    run, tid, k)
  return wrk.format("PATCH", base .. "/Users/" .. id, headers, body)
end
