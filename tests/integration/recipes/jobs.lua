-- Job features: shell strings, expect, timeouts, background jobs and kill,
-- streamed output, debug level, output larger than the per-stream limit.
local lnst = require "lnst"
return lnst.recipe {
  name = "Jobs",
  hosts = { h1 = { eth0 = { network = "n" } } },
  test = function(r)
    local h = r.hosts.h1
    local j = h:run("echo out; echo err >&2; exit 3", { expect = 3 })
    r:check(j.passed and j.exit_code == 3 and j.stdout == "out\n" and j.stderr == "err\n", "shell job, expect = 3")
    j = h:run({ "false" }, { expect = false })
    r:check(j.passed, "expect = false passes on a non-zero exit")
    j = h:run({ "sleep", "5" }, { timeout = 0.3, expect = true })
    r:check(j.timed_out and not j.passed, "timeout kills the job")
    local bg = h:run({ "sleep", "100" }, { bg = true })
    r:check(not bg.finished, "a background job runs on")
    bg:kill("INT")
    bg:wait(5)
    r:check(bg.finished and bg.signal == "INT" and bg.passed, "job:kill stops it and it counts as passed")
    local chunks = {}
    j = h:run({ "sh", "-c", "echo one; sleep 0.2; echo two" },
      { stream = true, on_output = function(stream, data) chunks[#chunks + 1] = stream .. ":" .. data end })
    r:check(table.concat(chunks):find("stdout:one") and table.concat(chunks):find("two"), "streamed output arrives",
      { chunks = chunks })
    j = h:run({ "true" }, { level = lnst.DEBUG })
    r:check(j.passed, "a job at debug level")
    j = h:run("head -c 3000000 /dev/zero | tr '\\0' '\\1'")
    r:check(j.passed and j.truncated and #j.stdout == 1048576, "large output is truncated to 1 MiB",
      { len = #j.stdout })
  end,
}
