#!/usr/bin/env node
// Container health check: exit 0 when tsms answers ready, 1 otherwise. Docker's HEALTHCHECK and
// the Helm test pod run it. It asks GET /v2/health/ready on the REST port given to the server
// (read from the server's command line, /proc/<pid>/cmdline, so `docker run ... --rest_port N`
// needs no second setting); without a REST port it checks that the gRPC port accepts connections.
// TSMS_HEALTH_URL overrides the address; TSMS_PID names the server process (default 1, the
// container's entrypoint).
import { readFileSync } from 'node:fs';
import net from 'node:net';

const TIMEOUT_MS = Number(process.env.TSMS_HEALTH_TIMEOUT_MS ?? 2500);

function serverFlags() {
  const flags = new Map();
  let argv = [];
  try {
    argv = readFileSync(`/proc/${process.env.TSMS_PID ?? 1}/cmdline`, 'utf8').split('\0');
  } catch {
    // not Linux, or no such process: defaults below
  }
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z_]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) continue;
    if (m[2] !== undefined) flags.set(m[1], m[2]);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags.set(m[1], argv[++i]);
    else flags.set(m[1], 'true');
  }
  return flags;
}

/** Where to reach a server bound to `bind`: loopback unless it is bound to one address only. */
function hostFor(bind) {
  if (!bind || bind === '0.0.0.0' || bind === '::' || bind === '[::]') return '127.0.0.1';
  return bind.includes(':') && !bind.startsWith('[') ? `[${bind}]` : bind;
}

async function httpReady(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
}

function tcpOpen(host, port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: host.replace(/^\[|\]$/g, ''), port });
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error(`${host}:${port} timed out`)));
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('error', reject);
  });
}

async function main() {
  if (process.env.TSMS_HEALTH_URL) return httpReady(process.env.TSMS_HEALTH_URL);
  const flags = serverFlags();
  const restPort = Number(flags.get('rest_port') ?? 0);
  if (restPort > 0) return httpReady(`http://${hostFor(flags.get('rest_bind_address'))}:${restPort}/v2/health/ready`);
  return tcpOpen(hostFor(flags.get('grpc_bind_address')), Number(flags.get('port') ?? 9178));
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`not healthy: ${err?.message ?? err}\n`);
    process.exit(1);
  },
);
