-- lnst.enrt.rdma: LNST's RDMA bandwidth measurement (RDMABandwidthServer /
-- RDMABandwidthClient, used by SoftwareRDMARecipe): ib_send_bw (perftest)
-- as server on the receiver and client on the generator over RDMA CM
-- (--rdma_cm --ib-dev DEV --size 65536 --duration D --port 12000
-- --output bandwidth), one run per iteration; the bandwidth the client
-- prints (one number, MB/s) must be non-zero.
local enrt = require "lnst.enrt"
local results = require "lnst.results"

local M = {}

-- ib_send_bw --output bandwidth prints one number: the bandwidth, or nil.
function M.parse_bandwidth(stdout)
  return tonumber(tostring(stdout or ""):match("^%s*(%d+%.?%d*)%s*$"))
end

-- The client's argv (the server's is the same without the addresses).
function M.argv(dev, duration, dst, src)
  local argv = { "ib_send_bw" }
  if dst then
    for _, a in ipairs { dst, "--source_ip", src } do argv[#argv + 1] = a end
  end
  for _, a in ipairs { "--output", "bandwidth", "--rdma_cm", "--ib-dev", dev, "--size", "65536", "--duration",
    tostring(duration), "--port", "12000" } do argv[#argv + 1] = a end
  return argv
end

-- gen = { netdev, its RDMA device } -> recv = { ... } (IPv4 addresses tracked in cfg).
function M.measure(r, cfg, gen, recv)
  local P = r.params
  local gen_dev, gen_ib, recv_dev, recv_ib = gen[1], gen[2], recv[1], recv[2]
  gen, recv = gen_dev.host, recv_dev.host
  local src, dst = enrt.strip(cfg:ips(gen_dev, "ipv4")[1]), enrt.strip(cfg:ips(recv_dev, "ipv4")[1])
  for it = 1, P.perf_iterations do
    local server = recv:run(M.argv(recv_ib, P.perf_duration), { bg = true, level = results.NORMAL })
    r:wait(1)
    local client = gen:run(M.argv(gen_ib, P.perf_duration, dst, src), { timeout = P.perf_duration + 60,
      level = results.NORMAL })
    pcall(server.wait, server, 10)
    local bw = client.passed and M.parse_bandwidth(client.stdout)
    r:check(bw and bw > 0, string.format("RDMA bandwidth %s %s %s -> %s %s %s, iteration %d/%d: %s", gen.name, gen_ib,
      src, recv.name, recv_ib, dst, it, P.perf_iterations, bw and string.format("%.2f MB/s", bw) or ("no result: "
      .. tostring((client.stderr or ""):match("[^\n]+") or client.stdout))), { bandwidth = bw or 0 })
  end
end

return M
