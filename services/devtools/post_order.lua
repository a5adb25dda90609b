-- wrk script for `make bench`: POST /api/orders with valid, distinct orders. Each (user, movie)
-- pair is new, so the worker completes every one (a repeated pair is rejected "already purchased").
-- Thread n uses user ids from offset + n * 10,000,000 + 1 upwards; the offset (the script's
-- first argument, after "--" on wrk's command line) keeps repeated runs on one database apart.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_base", threads * 10000000)
end

function init(args)
  base = (tonumber(args[1]) or 0) + thread_base
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"user_id": %d, "movie_id": 1, "price": "9.99"}', base + counter)
  return wrk.format(nil, nil, nil, body)
end
