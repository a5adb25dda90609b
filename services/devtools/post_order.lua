-- wrk script for `make bench`: POST /api/orders with a valid order (user ids spread over 1..1000).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"user_id": %d, "movie_id": %d, "price": "9.99"}', counter % 1000 + 1, counter % 20 + 1)
  return wrk.format(nil, nil, nil, body)
end
