-- make bench: POST /Bulk with BENCH_BULK (100) user creates per request, the
-- users those of create.lua (~1.3 KB each, userNames unique per operation).
-- Success is 200 with every operation answered 201: a request with any other
-- status, or with fewer 201s than operations, fails the run (common.lua
-- counts it under its status, or under 207 when operations failed).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

expected = 200

local per = tonumber(os.getenv("BENCH_BULK") or "100")
local k = 0
local headers

function init(args)
  headers = write_headers()
end

function request()
  k = k + 1
  local ops = {}
  for i = 1, per do
    local name = string.format("bench-b-%s-%d-%d-%d", run, tid, k, i)
    ops[i] = '{"method":"POST","path":"/Users","bulkId":"b' .. i .. '","data":'
      .. user_json(name) .. "}"
  end
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":['
    .. table.concat(ops, ",") .. "]}"
  return wrk.format("POST", base .. "/Bulk", headers, body)
end

-- A 200 whose operations were not all created counts as status 207.
local answered = response
function response(status, headers, body)
  if status == 200 then
    local _, created = body:gsub('"status"%s*:%s*"201"', "")
    if created ~= per then status = 207 end
  end
  answered(status, headers, body)
end
