-- make bench: POST /Users, a ~1.3 KB user with a userName unique per request.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

-- Success is 201 Created; any other status fails the run (common.lua).
expected = 201

local template = [[{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"{U}","externalId":"ext-{U}","name":{"formatted":"Ms. Barbara J Jensen III","familyName":"Jensen","givenName":"Barbara","middleName":"Jane","honorificPrefix":"Ms.","honorificSuffix":"III"},"displayName":"Barbara Jensen","nickName":"Barbara","profileUrl":"https://login.example.com/{U}","title":"Tour Guide","userType":"Employee","preferredLanguage":"en-US","locale":"en-US","timezone":"America/Los_Angeles","active":true,"emails":[{"value":"{U}@example.com","type":"work","primary":true},{"value":"{U}@home.example.org","type":"home"}],"phoneNumbers":[{"value":"555-555-0001","type":"work"},{"value":"555-444-0001","type":"mobile"}],"addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood","region":"CA","postalCode":"91608","country":"USA","formatted":"100 Universal City Plaza\nHollywood, CA 91608 USA","primary":true}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"{U}","costCenter":"4130","organization":"Universal Studios","division":"Theme Park","department":"Tour Operations","manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d"}}}]]
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
  local name = string.format("bench-c-%s-%d-%d", run, tid, k)
  local body = template:gsub("{U}", name)
  return wrk.format("POST", base .. "/Users", headers, body)
end
