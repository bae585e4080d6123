-- make bench: one group (BENCH_GROUP_ID), by BENCH_GROUP_MODE:
--   patch    PATCH add one member, then remove it again, over and over,
--            answered 200 with the whole group (its members included), or
--            204 for a group too large for that;
--   minimal  the same PATCHes with `Prefer: return=minimal`, answered 204;
--   read     GET /Groups/<id>?excludedAttributes=members, answered 200.
-- The members come from BENCH_GROUP_POOL (ids of users not in the group,
-- one per line): each thread adds a random one, and its next request
-- removes the one it added BENCH_GROUP_LAG (64) adds ago, so that the add
-- was answered before its remove is sent and every PATCH is a real change.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local mode = os.getenv("BENCH_GROUP_MODE") or "patch"
local group = assert(os.getenv("BENCH_GROUP_ID"), "BENCH_GROUP_ID is not set")
local lag = tonumber(os.getenv("BENCH_GROUP_LAG") or "64")
-- BENCH_GROUP_EXPECT: the status of a PATCH without a preference (200, or
-- 204 for a group past SCIMBUS_PATCH_ANSWER_MAX_MEMBERS).
expected = (mode == "minimal") and 204 or (mode == "read" and 200 or tonumber(os.getenv("BENCH_GROUP_EXPECT") or "200"))

local pool = {}
local added = {} -- ring of the ids this thread added, oldest first
local first, last = 1, 0
local headers
local k = 0

function init(args)
  seed()
  if mode == "read" then
    headers = { ["Authorization"] = "Bearer " .. token }
    return
  end
  local file = assert(os.getenv("BENCH_GROUP_POOL"), "BENCH_GROUP_POOL is not set")
  for line in io.lines(file) do
    if #line > 0 then pool[#pool + 1] = line end
  end
  assert(#pool > 0, "no ids in " .. file)
  headers = write_headers()
  if mode == "minimal" then headers["Prefer"] = "return=minimal" end
end

local function patch(op, path, value)
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"'
    .. op .. '","path":"' .. path .. '"' .. (value and (',"value":' .. value) or "") .. "}]}"
  return wrk.format("PATCH", base .. "/Groups/" .. group, headers, body)
end

function request()
  if mode == "read" then
    return wrk.format("GET", base .. "/Groups/" .. group .. "?excludedAttributes=members", headers)
  end
  k = k + 1
  if k % 2 == 0 and last - first + 1 > lag then
    local id = added[first]
    added[first] = nil
    first = first + 1
    return patch("remove", 'members[value eq \\"' .. id .. '\\"]')
  end
  local id = pool[math.random(1, #pool)]
  last = last + 1
  added[last] = id
  return patch("add", "members", '[{"value":"' .. id .. '"}]')
end
