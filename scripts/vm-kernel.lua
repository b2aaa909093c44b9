-- Prepares a kernel for `lnst run --vm` ahead of time and says where it is:
--   lnst scripts/vm-kernel.lua [auto | KERNEL [MODULES_DIR]]
-- prints shell assignments (kernel=..., initrd=..., modules=..., release=...,
-- image=..., source=..., boot=...). "auto" (the default) fetches Debian's
-- current stock kernel into the cache (/var/cache/lnst/kernels,
-- $LNST_KERNEL_CACHE); see docs/vm.md.
local vmkernel = require "lnst.vmkernel"

local ok, k = pcall(vmkernel.prepare, { kernel = arg[1] or "auto", modules = arg[2] })
if not ok then
  io.stderr:write("vm-kernel: ", tostring(k), "\n")
  return 2
end
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
for _, key in ipairs { "kernel", "initrd", "modules", "release", "image", "source", "boot" } do
  print(key .. "=" .. q(k[key] or ""))
end
for _, note in ipairs(k.notes) do io.stderr:write("vm-kernel: ", note, "\n") end
return 0
