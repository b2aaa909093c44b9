-- lnst.podman_cli: what `lnst image build` and `lnst cleanup` do once
-- podman_cmd.c has parsed their options.
--   image_build(opts) -> exit code    cleanup(opts) -> exit code
local core = require "lnst.core"

local M = {}

local function errln(fmt, ...)
  io.stderr:write("lnst: ", string.format(fmt, ...), "\n")
end

local function mib(n)
  return n and string.format("%.1f MiB", n / 1048576) or "? MiB"
end

function M.image_build(opts)
  local image = require "lnst.image"
  local kinds = {}
  if opts.agent then kinds[#kinds + 1] = "agent" end
  if opts.controller then kinds[#kinds + 1] = "controller" end
  if #kinds == 0 then kinds = { "agent", "controller" } end
  if opts.name and #kinds > 1 then
    errln("image build: --name names one image: add --agent or --controller")
    return 2
  end
  for _, kind in ipairs(kinds) do
    local ok, res = pcall(image.build, { kind = kind, name = opts.name, podman_uri = opts.podman_uri,
      source = opts.source, work_dir = opts.work_dir, keep = opts.keep, progress = core.isatty(2) })
    if not ok then
      errln("%s", tostring(res))
      return 2
    end
    print(string.format("built %s image %s (%s, %s; tools: %s)", kind, res.name, tostring(res.id):sub(1, 19),
      mib(res.size), table.concat(res.tools, " ")))
  end
  return 0
end

function M.cleanup(opts)
  local removed, skipped, problems = require("lnst.podman").cleanup_leftovers {
    podman_uri = opts.podman_uri, all = opts.all, dry_run = opts.dry_run,
  }
  -- guests of the vm provisioner whose controller is gone (lnst.vm)
  local vm_removed, vm_problems = require("lnst.vm").cleanup_leftovers { dry_run = opts.dry_run }
  for _, r in ipairs(vm_removed) do removed[#removed + 1] = r end
  for _, p in ipairs(vm_problems) do problems[#problems + 1] = p end
  local verb = opts.dry_run and "would remove" or "removed"
  for _, r in ipairs(removed) do print(verb .. " " .. r) end
  for _, s in ipairs(skipped) do print("left " .. s) end
  for _, p in ipairs(problems) do errln("cleanup: %s", p) end
  if #removed == 0 and #problems == 0 then print("nothing to clean up") end
  return #problems > 0 and 2 or 0
end

return M
