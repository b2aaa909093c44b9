-- lnst.perf.progress: the one-line progress display of long perf runs.
--
--   perf 3/24 ipv4 tcp_stream host1.eth0 -> host2.eth0 | iteration 2/5 | 1:42 | last 9.41 Gbit/s
--
-- Drawn on stderr only when it is a terminal (redrawn in place with \r and
-- cleared when the run ends), so nothing of it reaches pipes or log files.
-- M.new takes the writer, whether it is enabled and a clock, so the tests
-- can watch it work.
local M = {}

local P = {}
P.__index = P

-- opts: out (a file; default io.stderr), enabled (default: stderr is a
-- terminal), clock (seconds; default lnst.core.now), width (default 120).
function M.new(opts)
  opts = opts or {}
  local enabled = opts.enabled
  local clock = opts.clock
  if enabled == nil or not clock then
    local ok, core = pcall(require, "lnst.core")
    if enabled == nil then enabled = ok and core.isatty(2) or false end
    clock = clock or (ok and core.now) or os.time
  end
  return setmetatable({ out = opts.out or io.stderr, enabled = enabled, clock = clock, width = opts.width or 120,
    fields = {}, shown = false, last_draw = -math.huge }, P)
end

local function clock_text(s)
  s = math.floor(s)
  local h, m = math.floor(s / 3600), math.floor(s / 60)
  if h > 0 then return string.format("%d:%02d:%02d", h, m % 60, s % 60) end
  return string.format("%d:%02d", m, s % 60)
end

-- The line for the current fields (without control characters).
function P:line()
  local f = self.fields
  local parts = {}
  local head = "perf"
  if f.conf_index then head = head .. " " .. f.conf_index .. (f.conf_total and ("/" .. f.conf_total) or "") end
  if f.conf then head = head .. " " .. f.conf end
  parts[#parts + 1] = head
  if f.iteration then parts[#parts + 1] = string.format("iteration %d/%d", f.iteration, f.iterations or 0) end
  if self.started then parts[#parts + 1] = clock_text(self.clock() - self.started) end
  if f.last then parts[#parts + 1] = "last " .. f.last end
  local line = table.concat(parts, " | ")
  if #line > self.width then line = line:sub(1, self.width - 3) .. "..." end
  return line
end

function P:draw(force)
  if not self.enabled then return end
  local now = self.clock()
  if not force and now - self.last_draw < 0.25 then return end
  self.last_draw = now
  self.out:write("\r\27[K", self:line())
  self.out:flush()
  self.shown = true
end

-- Merges fields (conf, conf_index, conf_total, iteration, iterations, last)
-- and redraws.
function P:set(fields)
  if not self.started then self.started = self.clock() end
  for k, v in pairs(fields) do self.fields[k] = v end
  self:draw(true)
end

-- Redraws (the elapsed time moves); cheap when called often.
function P:tick()
  self:draw(false)
end

-- Removes the line, so the summary prints on a clean line.
function P:clear()
  if self.enabled and self.shown then
    self.out:write("\r\27[K")
    self.out:flush()
    self.shown = false
  end
end

return M
