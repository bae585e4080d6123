-- make bench: POST /Bulk with BENCH_BULK (100) user creates per request, the
-- users those of create.lua (~1.3 KB each, userNames unique per operation).
-- Success is 200 with every operation answered 201: a request with any other
-- status, or with fewer 201s than operations, fails the run (common.lua
-- counts it under its status, or under 207 when operations failed).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

expected = 200

local per = tonumber(os.getenv("BENCH_BULK") or "100")
local template = [[{"method":"POST","path":"/Users","bulkId":"b{N}","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"{U}","externalId":"ext-{U}","name":{"formatted":"Ms. Barbara J Jensen III","familyName":"Jensen","givenName":"Barbara","middleName":"Jane","honorificPrefix":"Ms.","honorificSuffix":"III"},"displayName":"Barbara Jensen","nickName":"Barbara","profileUrl":"https://login.example.com/{U}","title":"Tour Guide","userType":"Employee","preferredLanguage":"en-US","locale":"en-US","timezone":"America/Los_Angeles","active":true,"emails":[{"value":"{U}@example.com","type":"work","primary":true},{"value":"{U}@home.example.org","type":"home"}],"phoneNumbers":[{"value":"555-555-0001","type":"work"},{"value":"555-444-0001","type":"mobile"}],"addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood","region":"CA","postalCode":"91608","country":"USA","formatted":"100 Universal City Plaza\nHollywood, CA 91608 USA","primary":true}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"{U}","costCenter":"4130","organization":"Universal Studios","division":"Theme Park","department":"Tour Operations","manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d"}}}}]]
local k = 0
local headers

function init(args)
  headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/scim+json",
  }
end

function request()
  k = k + 1
  local ops = {}
  for i = 1, per do
    local name = string.format("bench-b-%s-%d-%d-%d", run, tid, k, i)
    ops[i] = template:gsub("{U}", name):gsub("{N}", tostring(i))
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
