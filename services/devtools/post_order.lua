-- wrk script for `make bench`: POST /api/orders with valid, distinct orders. Each (user, movie)
-- pair is new, so the worker completes every one (a repeated pair is rejected "already purchased").
-- Arguments after "--" on wrk's command line: the first user id, free in the database, and wrk's
-- thread count. Thread n of t posts user ids first + n - 1, first + n - 1 + t, ... for movie 1.
local threads = 0
function setup(thread)
  thread:set("index", threads)
  threads = threads + 1
end

function init(args)
  first = tonumber(args[1]) + index
  step = tonumber(args[2])
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local sent = 0
request = function()
  local body = string.format('{"user_id": %d, "movie_id": 1, "price": "9.99"}', first + sent * step)
  sent = sent + 1
  return wrk.format(nil, nil, nil, body)
end
