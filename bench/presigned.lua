-- wrk script: every request is a different pre-signed emulator request (own signature, own nonce).
-- The file has one request per line: path \t headers (name: value, separated by \1) \t body.
-- Each wrk thread walks its own stride of the file, so no two requests share a nonce.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  local nthreads = tonumber(args[2])
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then
      local path, hdrs, body = line:match("([^\t]*)\t([^\t]*)\t?(.*)")
      local headers = {}
      for pair in hdrs:gmatch("[^\1]+") do
        local k, v = pair:match("([^:]+):%s?(.*)")
        headers[k] = v
      end
      table.insert(requests, wrk.format("POST", path, headers, body))
    end
    i = i + 1
  end
  n = 0
end

function request()
  n = n + 1
  if n > #requests then n = 1 end
  return requests[n]
end
