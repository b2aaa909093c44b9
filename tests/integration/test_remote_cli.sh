#!/bin/bash
# Remote agents, bad input: the agent's refusals (an unauthenticated
# non-loopback address, config errors, loose key permissions), keygen, the
# controller's errors for invalid pools and configs, a recipe no pool can
# take (the explanation), an unreachable agent, and an agent speaking
# another protocol version. Each is one clear error naming the file, line or
# agent. The network parts run in a private namespace (loopback only).
. "$(dirname "$0")/lib.sh"
set -e
AGENT=${AGENT:-$(dirname "$LNST")/lnst-agent}
D=$(mktemp -d /tmp/lnst-remote-cli.XXXXXX)
trap 'rm -rf "$D"' EXIT
leak_begin

run_agent() {
  local want=$1; shift
  set +e
  OUT=$("$AGENT" "$@" 2>&1)
  local got=$?
  set -e
  [ "$got" = "$want" ] || { echo "$OUT" >&2; fail "lnst-agent $* exited $got, expected $want"; }
}

# -- the agent refuses before it touches anything
printf '[agent]\nlisten = 198.51.100.7\n' > "$D/open.conf"
run_agent 2 --config "$D/open.conf"
expect_out "refusing to listen on 198\.51\.100\.7:9999 without authentication"
expect_out "or pass --insecure"
printf '[agent]\nlisten = 127.0.0.1\nport = 1\n' > "$D/typo.conf"
run_agent 2 --config "$D/typo.conf"
expect_out "config $D/typo.conf:3: unknown option 'port' in \[agent\] \(known: listen, name, log_file, timeout, insecure\)"
printf '[agent]\nlisten = 127.0.0.1\n[security]\nmode = kerberos\n' > "$D/mode.conf"
run_agent 2 --config "$D/mode.conf"
expect_out "config $D/mode.conf:4: unknown security mode 'kerberos' \(known: none, psk, cert\)"
run_agent 2 --listen 127.0.0.1:http
expect_out "listen address '127\.0\.0\.1:http' must be a numeric ADDR\[:PORT\]"
run_agent 2 --listen 127.0.0.1 --fd 3
expect_out "--listen/--config do not go with --fd"

# -- keygen: files 0600, never overwritten; loose permissions are refused
run_agent 0 keygen --psk "$D/k.psk" --identity lab
[ "$(stat -c %a "$D/k.psk")" = 600 ] || fail "the PSK file is not mode 600"
grep -qE '^lab:[0-9a-f]{64}$' "$D/k.psk" || fail "the PSK file is not IDENTITY:HEXKEY"
run_agent 1 keygen --psk "$D/k.psk"
expect_out "cannot create $D/k.psk: File exists \(keygen never overwrites a file\)"
run_agent 0 keygen --cert "$D/a" --cn agent1 --days 30
expect_out "wrote $D/a\.key and $D/a\.crt \(CN=agent1, 30 days, public key sha256:[0-9a-f]{64}\)"
FP=$(echo "$OUT" | grep -oE 'sha256:[0-9a-f]{64}')
run_agent 0 keygen --fingerprint "$D/a.key"
[ "$OUT" = "$FP" ] || fail "the key's fingerprint ($OUT) differs from its certificate's ($FP)"
run_agent 2 keygen --psk "$D/x" --cert "$D/y"
expect_out "give exactly one of --psk, --cert, --fingerprint"
chmod 644 "$D/k.psk"
printf '[agent]\nlisten = 127.0.0.1\n[security]\nmode = psk\npsk_file = k.psk\n' > "$D/loose.conf"
run_agent 2 --config "$D/loose.conf"
expect_out "pre-shared key file $D/k\.psk: permissions 0644 are too open"
chmod 600 "$D/k.psk"
printf 'lab:abcd\n' > "$D/short.psk"; chmod 600 "$D/short.psk"
printf '[agent]\nlisten = 127.0.0.1\n[security]\nmode = psk\npsk_file = short.psk\n' > "$D/short.conf"
run_agent 2 --config "$D/short.conf"
expect_out "$D/short\.psk:1: the key must be 16 to 64 bytes as hex digits, found 4 digits"
printf '[agent]\nlisten = 127.0.0.1\n[security]\nmode = cert\ncert = a.crt\nkey = a.key\n' > "$D/notrust.conf"
run_agent 2 --config "$D/notrust.conf"
expect_out "security cert needs \[security\] trust"

# -- the controller: invalid pools and configs
mkdir -p "$D/bad" "$D/good"
cat > "$D/bad/m1.xml" <<'EOF'
<agentmachine>
  <params><param name="hostname" value="127.0.0.1"/></params>
  <interfaces>
    <eth id="eth1" label="net1"><params><param name="hwaddr" value="02:00:00:00:00:01"/></params></eth>
  </interfaces>
  <security><auth_type>ssh</auth_type></security>
</agentmachine>
EOF
cp "$D/bad/m1.xml" "$D/bad/m2.xml"
run_lnst 2 pool list --pool "$D/bad"
expect_out "pool bad: $D/bad/m1\.xml:6: security type 'ssh' of the Python LNST is not supported here"
expect_out "$D/bad/m2\.xml:4: hwaddr 02:00:00:00:00:01 of interface eth1 is also interface eth1 of machine m1"
expect_out "$D/bad/m2\.xml: hostname 127\.0\.0\.1 port 9999 is also machine m1"
run_lnst 2 run --pool "$D/bad" recipes/hello_world.lua
expect_out "m1\.xml:6: security type 'ssh'"
printf '<agentmachine>\n<params>\n<param name="hostname" value="127.0.0.1"/>\n</agentmachine>\n' > "$D/bad/m1.xml"
rm "$D/bad/m2.xml"
run_lnst 2 pool check --pool "$D/bad"
expect_out "$D/bad/m1\.xml:4: .*mismatch"
printf '[pools]\nlab = good\n[colours]\n' > "$D/ctl.conf"
run_lnst 2 pool list --config "$D/ctl.conf"
expect_out "config $D/ctl\.conf:3: unknown section \[colours\] \(known: environment, pools, security\)"
run_lnst 2 run --config "$D/nonexistent.conf" --pool "$D/good" recipes/hello_world.lua
expect_out "config $D/nonexistent\.conf: No such file or directory"

# -- no pool can take the recipe: the explanation
for i in 1 2; do
cat > "$D/good/m$i.xml" <<EOF
<agentmachine>
  <params><param name="hostname" value="127.0.0.1"/><param name="rpc_port" value="$((19000 + i))"/>
    <param name="arch" value="x86_64"/></params>
  <interfaces>
    <eth id="eth1" label="lan"><params><param name="hwaddr" value="02:00:00:00:0$i:01"/>
      <param name="driver" value="virtio_net"/></params></eth>
  </interfaces>
</agentmachine>
EOF
done
cat > "$D/arm.lua" <<'EOF'
local lnst = require "lnst"
return lnst.recipe {
  name = "NeedsArm",
  hosts = { a = { params = { arch = "aarch64" }, eth0 = { network = "n" } },
            b = { eth0 = { network = "n", driver = "ixgbe" } } },
  test = function() end,
}
EOF
run_lnst 2 run --pool "$D/good" "$D/arm.lua"
expect_out "no machine pool can provision this recipe:"
expect_out "pool good \($D/good\): 2 machines"
expect_out "host a \(arch=aarch64\): no machine fits"
expect_out "m1: arch is 'x86_64', wanted 'aarch64'"
expect_out "m2: NIC eth0 \(network n, driver=ixgbe\): no interface fits: interface eth1 driver is 'virtio_net', wanted 'ixgbe'"

# -- network parts, in a private namespace with loopback only
cat > "$D/fake_agent.pl" <<'EOF'
# A TCP "agent" that answers hello with another protocol version.
use strict; use IO::Socket::INET;
my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 19002, Listen => 1, ReuseAddr => 1) or die;
print STDOUT "ready\n"; STDOUT->flush();
while (my $c = $s->accept()) {
  my $hdr; next unless read($c, $hdr, 4) == 4;
  my $body; read($c, $body, unpack('N', $hdr));
  my ($id) = $body =~ /"id":(\d+)/;
  my $r = '{"id":' . $id . ',"result":{"protocol":99,"agent_version":"9.9.9","devices":[]}}';
  print $c pack('N', length $r) . $r; $c->flush(); sleep 1; close $c;
}
EOF
cat > "$D/netpart.sh" <<EOF
set -e
ip link set lo up
perl "$D/fake_agent.pl" > "$D/fake.ready" &
FAKE=\$!
for t in \$(seq 1 100); do [ -s "$D/fake.ready" ] && break; sleep 0.05; done
"$LNST" pool list --pool "$D/good" > "$D/list.out" 2>&1 || true
"$LNST" run --pool "$D/good" recipes/hello_world.lua > "$D/run.out" 2>&1 && echo "run exited 0" >> "$D/run.out" || echo "run exited \$?" >> "$D/run.out"
kill \$FAKE
wait \$FAKE 2>/dev/null || true
EOF
unshare -n bash "$D/netpart.sh"
OUT=$(cat "$D/list.out")
expect_out "m1  127\.0\.0\.1:19001  security none  UNREACHABLE \(Connection refused\)"
expect_out "m2  127\.0\.0\.1:19002  security none  reachable"
OUT=$(cat "$D/run.out")
expect_out "run exited 2"
expect_out "cannot use the machines of pool good \(nothing was changed on any of them\)"
expect_out "host1: agent connection lost \(cannot connect to agent m1 at 127\.0\.0\.1:19001: Connection refused\)"
expect_out "host2: agent m2 at 127\.0\.0\.1:19002 speaks protocol 99 \(lnst-agent 9\.9\.9\), this controller speaks 1"

leak_check
echo "1 passed, 0 failed"
