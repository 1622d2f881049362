#!/usr/bin/env node
/**
 * A stand-in for the `firecracker` binary, for hosts that cannot run the real one. It follows Firecracker's
 * published contract (swagger v1.16.1 + docs/), never our driver's code:
 *
 * - `--version` prints "Firecracker v<FAKE_FC_VERSION or 1.16.1>"; `--api-sock <path>` (default
 *   /run/firecracker.socket) is the only other flag accepted; anything else is an argument error (exit 1).
 * - The API is served on that Unix socket (bind fails if the path exists, as for the real one). Every body is
 *   validated with ajv against the swagger definitions (spec-validate.mjs); PUT/PATCH without
 *   `Content-Length` is refused; success is 204 with no body, failure is 400 `{"fault_message": "..."}`.
 * - Semantics the docs describe: pre-boot-only resources, InstanceStart once and only with a boot source,
 *   drive_id in path == body, files named in bodies must exist (relative to our cwd), pause/resume, snapshot
 *   create only while paused, snapshot load only on a fresh process (logger/metrics allowed) and a failed
 *   load ends the process, `vsock_override`.
 * - Network interfaces (PUT /network-interfaces/{iface_id}, pre-boot): iface_id in path == body, a guest_mac
 *   that is a MAC address, and a host_dev_name that is a TAP in OUR network namespace (as the real one
 *   opens it with TUNSETIFF there: "Open tap device failed"); a snapshot load needs those TAPs again.
 * - Hybrid vsock host side on `uds_path` (docs/vsock.md): reads `CONNECT <port>\n`; if the simulated guest
 *   listens on that port (FAKE_FC_GUEST_PORTS='{"<port>": "<unix socket of a test server>"}') it connects,
 *   answers `OK <hostport>\n` and pipes bytes both ways; otherwise it closes the connection (EOF, no OK).
 * - The guest serial console is our stdout. SendCtrlAltDel makes the simulated guest reboot → exit 0 (set
 *   FAKE_FC_CTRL_ALT_DEL=ignore for a guest that ignores it); SIGUSR1 simulates a guest `reboot` (exit 0);
 *   SIGTERM/SIGKILL end the process as usual.
 * - FAKE_FC_GUEST_CONSOLE=<file>: when the simulated guest runs, its serial console (our stdout) is this
 *   file, copied from its start and followed — the console of a real guest whose ports
 *   FAKE_FC_GUEST_PORTS routes to, so that what that guest logs shows where Firecracker's console would.
 * - FAKE_FC_CHROOT=<dir>: absolute paths resolve inside <dir>, as under the jailer (see fake-jailer.sh).
 * - FAKE_FC_LOG=<file>: one JSON line per event ({event:'start'|'request'|'exit', ...}) for the tests.
 * - FAKE_FC_FAULTS='{"<operationId>[:<body.state>]": "<fault_message>"}': that request fails the way the real
 *   one reports a failure it hit (disk full, a KVM error): 400 with that fault_message, and nothing changes
 *   (a failed snapshot create leaves the VM paused; a failed resume too). E.g. {"createSnapshot": "...",
 *   "patchVm:Resumed": "..."}.
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readlinkSync,
  readSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { setInterval } from 'node:timers';
import { loadSpec } from './spec-validate.mjs';

const VERSION = process.env.FAKE_FC_VERSION ?? '1.16.1';
/**
 * FAKE_FC_CHROOT=<dir> (set by fake-jailer.sh): we "run chrooted" there: absolute paths in flags and bodies
 * resolve inside it, as they would for a Firecracker the jailer has chrooted; relative ones against our cwd.
 */
const chroot = process.env.FAKE_FC_CHROOT;
const inJail = (p) => (chroot && isAbsolute(p) ? join(chroot, p) : resolve(p));
const logFile = process.env.FAKE_FC_LOG;
const record = (obj) => {
  if (logFile) appendFileSync(logFile, `${JSON.stringify({ t: Date.now(), pid: process.pid, ...obj })}\n`);
};

// ---- command line --------------------------------------------------------------------------------------
const argv = process.argv.slice(2);
let apiSock = '/run/firecracker.socket';
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--version' || a === '-V') {
    process.stdout.write(`Firecracker v${VERSION}\n\nSupported snapshot data format versions: v8.0.0\n`);
    process.exit(0);
  } else if (a === '--api-sock' && argv[i + 1] !== undefined) {
    apiSock = argv[++i];
  } else {
    process.stderr.write(`Arguments parsing error: unsupported argument ${a} (fake-firecracker)\n`);
    process.exit(1);
  }
}
record({ event: 'start', argv, cwd: process.cwd(), ppid: process.ppid, netns: readlinkSync('/proc/self/ns/net') });

const spec = loadSpec({ specPath: process.env.FAKE_FC_SPEC });
const guestPorts = JSON.parse(process.env.FAKE_FC_GUEST_PORTS ?? '{}');
const faults = JSON.parse(process.env.FAKE_FC_FAULTS ?? '{}');

// ---- VM state ------------------------------------------------------------------------------------------
/** 'fresh' → (config) → 'configured' → InstanceStart → 'running' ⇄ 'paused' */
let vmState = 'fresh';
const config = {
  bootSource: undefined,
  drives: {},
  machine: { vcpu_count: 1, mem_size_mib: 128 },
  vsock: undefined,
  networkInterfaces: {},
  logger: undefined,
  metrics: undefined,
};
let vsockServer;
let nextHostPort = 1073741824;

class Fault extends Error {}
const fault = (msg) => {
  throw new Fault(msg);
};
const preBoot = (what) => {
  if (vmState === 'running' || vmState === 'paused')
    fault(`The requested operation is not supported after starting the microVM. (${what})`);
};
const mustExist = (p, what) => {
  if (!existsSync(inJail(p))) fault(`${what}: No such file or directory (os error 2): ${p}`);
};

/** A TAP device named `name` in the network namespace we run in (/proc/self/net: ours, not the mounter's). */
function mustBeTap(name) {
  const ifaces = readFileSync('/proc/self/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0].trim());
  if (!ifaces.includes(name))
    fault(
      `Could not create the network device: Open tap device failed: Error while creating ifreq structure: No such device (os error 19). Invalid TUN/TAP Backend provided by ${name}.`,
    );
}

function bindVsock(udsPath) {
  return new Promise((res, rej) => {
    const server = createServer((conn) => handleVsockConnection(conn));
    server.once('error', (e) => rej(new Fault(`Cannot create backend for vsock device: UnixBind(${e.message})`)));
    server.listen(inJail(udsPath), () => res(server));
  });
}

function handleVsockConnection(conn) {
  let buf = Buffer.alloc(0);
  const onData = (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    const nl = buf.indexOf(10);
    if (nl === -1) {
      if (buf.length > 64) conn.destroy();
      return;
    }
    conn.off('data', onData);
    const line = buf.subarray(0, nl).toString();
    const rest = buf.subarray(nl + 1);
    const m = /^CONNECT (\d+)$/.exec(line);
    const target = m && vmState === 'running' ? guestPorts[m[1]] : undefined;
    record({ event: 'vsock-connect', line, routed: Boolean(target) });
    if (!target) return conn.end(); // nobody listening in the guest: terminate the host connection
    const guest = connect(target);
    guest.once('error', () => conn.end());
    guest.once('connect', () => {
      conn.write(`OK ${nextHostPort++}\n`);
      if (rest.length) guest.write(rest);
      conn.pipe(guest);
      guest.pipe(conn);
      conn.on('error', () => guest.destroy());
      guest.on('close', () => conn.end());
    });
  };
  conn.on('data', onData);
  conn.on('error', () => undefined);
}

function guestConsole(text) {
  process.stdout.write(text);
}

let consoleFollowed = false;
function followGuestConsole() {
  const file = process.env.FAKE_FC_GUEST_CONSOLE;
  if (!file || consoleFollowed) return;
  consoleFollowed = true;
  let offset = 0;
  const buf = Buffer.alloc(64 * 1024);
  setInterval(() => {
    let fd;
    try {
      fd = openSync(file, 'r');
      for (let n; (n = readSync(fd, buf, 0, buf.length, offset)) > 0; offset += n)
        process.stdout.write(Buffer.from(buf.subarray(0, n)));
    } catch {
      // not there (yet): the guest has printed nothing
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }, 50).unref();
}

function guestReboot(why) {
  record({ event: 'exit', why, code: 0 });
  guestConsole(`[    9.999999] reboot: Restarting system (${why})\n`);
  setTimeout(() => process.exit(0), 20);
}

// ---- handlers ------------------------------------------------------------------------------------------
const handlers = {
  async putLogger(body) {
    preBoot('logger');
    if (config.logger) fault('Logger already initialized');
    if (body.log_path) writeFileSync(inJail(body.log_path), `fake-firecracker ${VERSION} logger up\n`, { flag: 'a' });
    config.logger = body;
  },
  async putMetrics(body) {
    preBoot('metrics');
    if (config.metrics) fault('Reinitialization of metrics not allowed.');
    writeFileSync(inJail(body.metrics_path), '', { flag: 'a' });
    config.metrics = body;
  },
  async putGuestBootSource(body) {
    preBoot('boot-source');
    mustExist(body.kernel_image_path, 'The kernel file cannot be opened');
    if (body.initrd_path !== undefined) mustExist(body.initrd_path, 'The initrd file cannot be opened');
    config.bootSource = body;
    vmState = 'configured';
  },
  async putGuestDriveByID(body, params) {
    preBoot('drives');
    if (params.drive_id !== body.drive_id) fault('The id from the path does not match the id from the body!');
    if (body.path_on_host === undefined)
      fault('Unable to create the block device: path_on_host is required for virtio-block');
    mustExist(body.path_on_host, 'Unable to create the block device BackingFile');
    if (
      body.is_root_device &&
      Object.values(config.drives).some((d) => d.is_root_device && d.drive_id !== body.drive_id)
    )
      fault('A root block device already exists!');
    config.drives[body.drive_id] = body;
    vmState = 'configured';
  },
  async putMachineConfiguration(body) {
    preBoot('machine-config');
    if (body.smt && body.vcpu_count > 1 && body.vcpu_count % 2 === 1)
      fault('The vCPU number is invalid! The vCPU number can only be 1 or an even number when SMT is enabled.');
    if (body.mem_size_mib === 0) fault('The memory size (MiB) is invalid.');
    config.machine = body;
    vmState = 'configured';
  },
  async putGuestNetworkInterfaceByID(body, params) {
    preBoot('network-interfaces');
    if (params.iface_id !== body.iface_id) fault('The id from the path does not match the id from the body!');
    if (body.guest_mac !== undefined && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(body.guest_mac))
      fault(`Invalid MAC address: ${body.guest_mac}`);
    mustBeTap(body.host_dev_name);
    config.networkInterfaces[body.iface_id] = body;
    vmState = 'configured';
  },
  async putGuestVsock(body) {
    preBoot('vsock');
    if (vsockServer) await new Promise((r) => vsockServer.close(r));
    vsockServer = await bindVsock(body.uds_path);
    config.vsock = body;
    vmState = 'configured';
  },
  async createSyncAction(body) {
    switch (body.action_type) {
      case 'InstanceStart':
        if (vmState === 'running' || vmState === 'paused')
          fault('The requested operation is not supported after starting the microVM.');
        if (!config.bootSource) fault('Cannot start microvm that was not configured: missing kernel configuration');
        vmState = 'running';
        followGuestConsole();
        guestConsole(
          `[    0.000000] Linux version 6.1.0-fake (fake-firecracker ${VERSION}) cmdline: ${config.bootSource.boot_args ?? ''}\n[    0.100000] fake guest: running\n`,
        );
        return;
      case 'SendCtrlAltDel':
        if (vmState !== 'running') fault('The requested operation is not supported before starting the microVM.');
        if (process.env.FAKE_FC_CTRL_ALT_DEL !== 'ignore') setTimeout(() => guestReboot('ctrl-alt-del'), 50);
        return;
      case 'FlushMetrics':
        if (config.metrics)
          writeFileSync(inJail(config.metrics.metrics_path), '{"utc_timestamp_ms":0}\n', { flag: 'a' });
        return;
    }
  },
  async patchVm(body) {
    if (vmState !== 'running' && vmState !== 'paused')
      fault('The requested operation is not supported before starting the microVM.');
    vmState = body.state === 'Paused' ? 'paused' : 'running';
  },
  async createSnapshot(body) {
    if (vmState !== 'paused') fault('Cannot create a snapshot: the microVM must be paused first.');
    writeFileSync(inJail(body.mem_file_path), Buffer.alloc(4096, 0x5a));
    writeFileSync(inJail(body.snapshot_path), JSON.stringify({ fakeFirecrackerSnapshot: 1, version: VERSION, config }));
  },
  async loadSnapshot(body) {
    if (vmState !== 'fresh') fault('Loading a microVM snapshot not allowed after configuring boot-specific resources.');
    try {
      if ((body.mem_backend === undefined) === (body.mem_file_path === undefined))
        fault('Exactly one of mem_backend or mem_file_path must be given');
      const memPath = body.mem_backend?.backend_path ?? body.mem_file_path;
      mustExist(memPath, 'Cannot open the memory file');
      let state;
      try {
        state = JSON.parse(readFileSync(inJail(body.snapshot_path), 'utf8'));
      } catch (e) {
        fault(
          `Load snapshot error: Failed to restore from snapshot: Cannot deserialize the microVM state: ${e.message}`,
        );
      }
      if (state?.fakeFirecrackerSnapshot !== 1)
        fault('Load snapshot error: Failed to restore from snapshot: invalid snapshot magic/CRC');
      for (const d of Object.values(state.config.drives))
        mustExist(d.path_on_host, 'Load snapshot error: block device backing file');
      for (const n of Object.values(state.config.networkInterfaces ?? {})) mustBeTap(n.host_dev_name);
      Object.assign(config, state.config, { logger: config.logger, metrics: config.metrics });
      if (config.vsock) vsockServer = await bindVsock(body.vsock_override?.uds_path ?? config.vsock.uds_path);
      vmState = body.resume_vm ? 'running' : 'paused';
      followGuestConsole();
    } catch (e) {
      // docs/snapshotting: "on failure: a specific error is reported and then the current Firecracker process is ended"
      setTimeout(() => {
        record({ event: 'exit', why: 'failed snapshot load', code: 1 });
        process.exit(1);
      }, 20);
      throw e;
    }
  },
  async describeInstance() {
    return {
      app_name: 'Firecracker',
      id: 'anonymous-instance',
      state: vmState === 'running' ? 'Running' : vmState === 'paused' ? 'Paused' : 'Not started',
      vmm_version: VERSION,
    };
  },
  async getFirecrackerVersion() {
    return { firecracker_version: VERSION };
  },
  async getMachineConfiguration() {
    return config.machine;
  },
};

// ---- HTTP ----------------------------------------------------------------------------------------------
function send(res, status, body) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(
    status,
    body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) },
  );
  res.end(text);
}

const server = createHttpServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const entry = {
      event: 'request',
      method: req.method,
      path: req.url,
      headers: {
        'content-length': req.headers['content-length'],
        'transfer-encoding': req.headers['transfer-encoding'],
        'content-type': req.headers['content-type'],
      },
      raw,
    };
    const reply = (status, body) => {
      record({ ...entry, status, ...(body && 'fault_message' in body ? { fault: body.fault_message } : {}) });
      send(res, status, body);
    };
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const hasBody = raw.length > 0 || req.headers['transfer-encoding'] !== undefined;
      if ((req.method === 'PUT' || req.method === 'PATCH') && req.headers['content-length'] === undefined) {
        return reply(400, {
          fault_message: 'Missing Content-Length header: chunked request bodies are not supported.',
        });
      }
      let body;
      if (hasBody) {
        try {
          body = JSON.parse(raw);
        } catch (e) {
          return reply(400, {
            fault_message: `An error occurred when deserializing the json body of a request: ${e.message}`,
          });
        }
      }
      const found = spec.match(req.method, url.pathname);
      if (!found)
        return reply(400, { fault_message: `Invalid request method and/or path: ${req.method} ${url.pathname}.` });
      const { errors, params } = spec.validateBody(req.method, url.pathname, body);
      if (errors.length > 0)
        return reply(400, {
          fault_message: `An error occurred when deserializing the json body of a request: ${errors.join('; ')}`,
        });
      const operation = found.route.operationId;
      const injected =
        faults[typeof body?.state === 'string' ? `${operation}:${body.state}` : operation] ?? faults[operation];
      if (injected !== undefined) return reply(400, { fault_message: injected });
      const handler = handlers[operation];
      if (!handler)
        return reply(400, { fault_message: `fake-firecracker does not implement ${found.route.operationId}` });
      const result = await handler(body, params);
      if (result === undefined) reply(204);
      else reply(200, result);
    } catch (e) {
      if (e instanceof Fault) return reply(400, { fault_message: e.message });
      reply(500, { fault_message: `internal error: ${e.message}` });
    }
  });
});

server.on('error', (e) => {
  process.stderr.write(`Failed to open the API socket at ${apiSock}: ${e.message}\n`);
  process.exit(1);
});
server.listen(inJail(apiSock));

process.on('SIGUSR1', () => guestReboot('guest reboot'));
process.on('SIGTERM', () => {
  record({ event: 'exit', why: 'SIGTERM' });
  process.removeAllListeners('SIGTERM');
  process.kill(process.pid, 'SIGTERM');
});
