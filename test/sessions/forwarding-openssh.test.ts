/**
 * SSH forwarding in the agent, driven by real OpenSSH through `ssh-config` the way a user would: -L (TCP
 * and Unix socket), -W and -R (TCP and Unix socket) carry 1 MB of random bytes byte-exact both ways
 * through guest socat servers; a forward to a guest port with nothing listening fails that channel at once
 * while the same connection goes on forwarding; and nothing is left listening or connected in the guest
 * once the ssh client has gone. One named VM for the file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostAlias } from '../../src/host/store/named-vm-files.js';
import { startNamedVm, writeSshConfig, type NamedVm } from '../helpers/named-vm.js';
import { accepts, freePort, roundTrip, until, type Target } from '../helpers/net.js';
import { runTool, said } from '../helpers/run-tool.js';

const NAME = `fwd-${randomBytes(2).toString('hex')}`;
const ALIAS = hostAlias(NAME);
const MB = 1024 * 1024;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const local = mkdtempSync(join(tmpdir(), 'vg-fwd-'));
const configFile = join(local, 'ssh_config');
const sshBase = ['-F', configFile, '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes'];
const ssh = (args: string[], stdin?: Buffer | string) =>
  runTool('ssh', [...sshBase, ALIAS, ...args], stdin !== undefined ? { stdin } : {});

let vm: NamedVm | undefined;
const children = new Set<ChildProcess>();

/** A long-running ssh (a forward, or a guest server run over it), killed at the end of its test. */
function sshChild(args: string[]): { child: ChildProcess; stderr: () => string } {
  const child = spawn('ssh', [...sshBase, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  children.add(child);
  child.once('exit', () => children.delete(child));
  return { child, stderr: () => err };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

/** What the guest has listening (`ss -ltnx`), one socket per line. */
async function guestListening(): Promise<string> {
  const r = await ssh(['ss -Hltnx']);
  expect(r.code, said(r)).toBe(0);
  return r.stdout.toString();
}

/** Runs `command` (a socat server) in the guest for as long as the returned ssh lives; waits until `listening` shows. */
async function guestServer(command: string, listening: RegExp): Promise<ChildProcess> {
  const { child, stderr } = sshChild([ALIAS, `exec ${command}`]);
  const up = await until(async () => listening.test(await guestListening()), 30_000);
  expect(up, `guest server ${command} did not start: ${stderr()}`).toBe(true);
  return child;
}

/** Waits until connecting to a host port or Unix socket works (an ssh -L listener is up). */
const hostReady = (target: Target): Promise<boolean> => until(() => accepts(target), 30_000);

/** A host echo server (the far end of -R forwards) that records what it received. */
async function hostEcho(): Promise<{ server: Server; port: number; received: Buffer[] }> {
  const received: Buffer[] = [];
  const server = createServer({ allowHalfOpen: true }, (sock) => {
    const chunks: Buffer[] = [];
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      sock.write(d);
    });
    sock.on('end', () => {
      received.push(Buffer.concat(chunks));
      sock.end();
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, received };
}

beforeAll(async () => {
  vm = await startNamedVm(NAME);
  await writeSshConfig(NAME, configFile);
});
afterAll(async () => {
  for (const c of [...children]) await stop(c);
  await vm?.stop();
  rmSync(local, { recursive: true, force: true });
});

// socat's -t: after EOF one way, how long it waits for the other way to finish (default 0.5 s: too short
// for 1 MB through an emulated guest).
const ECHO = (listen: string): string => `socat -t 60 ${listen},fork EXEC:cat`;

describe('ssh -L and -W (direct-tcpip, direct-streamlocal)', () => {
  it('-L carries 1 MB byte-exact both ways to a guest TCP server, and nothing is left in the guest afterwards', async () => {
    const server = await guestServer(ECHO('TCP-LISTEN:7001,bind=127.0.0.1,reuseaddr'), /127\.0\.0\.1:7001\b/);
    const port = await freePort();
    const fwd = sshChild(['-N', '-L', `127.0.0.1:${port}:127.0.0.1:7001`, ALIAS]);
    expect(await hostReady({ port }), fwd.stderr()).toBe(true);
    const data = randomBytes(MB + 3);
    const back = await roundTrip({ port }, data);
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));
    await stop(fwd.child);
    await stop(server);
    // The agent's end of the forwarded connection went with it: no connection to 7001 is left open.
    const r = await ssh(["ss -Htn state established '( dport = :7001 or sport = :7001 )'"]);
    expect(r.stdout.toString().trim(), said(r)).toBe('');
  });

  it('-W (as ProxyJump uses it) carries 1 MB byte-exact both ways on its stdin/stdout', async () => {
    const server = await guestServer(ECHO('TCP-LISTEN:7003,bind=127.0.0.1,reuseaddr'), /127\.0\.0\.1:7003\b/);
    const data = randomBytes(MB + 1);
    const r = await runTool('ssh', [...sshBase, '-W', '127.0.0.1:7003', ALIAS], { stdin: data });
    expect(r.code, said(r)).toBe(0);
    expect(r.stdout.length).toBe(data.length);
    expect(sha256(r.stdout)).toBe(sha256(data));
    await stop(server);
  });

  it('-L to a guest Unix socket (direct-streamlocal) carries 1 MB byte-exact both ways', async () => {
    const server = await guestServer(ECHO('UNIX-LISTEN:/tmp/fwd-echo.sock'), /\/tmp\/fwd-echo\.sock/);
    const hostSock = join(local, 'l.sock');
    const fwd = sshChild(['-N', '-L', `${hostSock}:/tmp/fwd-echo.sock`, ALIAS]);
    expect(await hostReady({ path: hostSock }), fwd.stderr()).toBe(true);
    const data = randomBytes(MB);
    const back = await roundTrip({ path: hostSock }, data);
    expect(sha256(back)).toBe(sha256(data));
    await stop(fwd.child);
    await stop(server);
  });

  it('a forward to a guest port with nothing listening fails that channel at once; the connection goes on forwarding', async () => {
    const server = await guestServer(ECHO('TCP-LISTEN:7004,bind=127.0.0.1,reuseaddr'), /127\.0\.0\.1:7004\b/);
    expect(await guestListening()).not.toMatch(/:7999\b/);
    const dead = await freePort();
    const live = await freePort();
    // The ssh-config block leaves OpenSSH's LogLevel at its default, which prints the "open failed" line.
    const fwd = sshChild([
      '-N',
      '-L',
      `127.0.0.1:${dead}:127.0.0.1:7999`,
      '-L',
      `127.0.0.1:${live}:127.0.0.1:7004`,
      ALIAS,
    ]);
    expect(await hostReady({ port: live }), fwd.stderr()).toBe(true);
    // hostReady's probe of `live` went through already; now the dead one, timed from its connect.
    const t0 = Date.now();
    const nothing = await roundTrip({ port: dead }, Buffer.from('hello?\n'), true);
    const ms = Date.now() - t0;
    expect(nothing.length).toBe(0);
    expect(ms).toBeLessThan(5_000);
    expect(await until(() => /open failed: connect failed/.test(fwd.stderr()), 5_000), fwd.stderr()).toBe(true);
    // The same ssh connection still forwards.
    expect(fwd.child.exitCode).toBe(null);
    const data = randomBytes(64 * 1024);
    expect(sha256(await roundTrip({ port: live }, data))).toBe(sha256(data));
    // -W to nothing: ssh says why and exits, promptly.
    const t1 = Date.now();
    const w = await runTool('ssh', [...sshBase, '-W', '127.0.0.1:7999', ALIAS], {
      stdin: 'x',
    });
    expect(w.code, said(w)).toBe(255);
    expect(w.stderr).toMatch(/open failed: connect failed/);
    expect(Date.now() - t1).toBeLessThan(15_000);
    await stop(fwd.child);
    await stop(server);
  });
});

describe('backpressure', () => {
  it('a host reader that stops reading stalls the guest writer: the agent does not buffer what it cannot send', async () => {
    // 64 MB waiting to go out from the guest (per connection: hostReady's probe takes one); the host
    // side connects and then reads nothing.
    const server = await guestServer(
      `socat -U TCP-LISTEN:7010,bind=127.0.0.1,reuseaddr,fork SYSTEM:'head -c 67108864 /dev/zero'`,
      /127\.0\.0\.1:7010\b/,
    );
    const agentRssKb = async (): Promise<number> => {
      const r = await ssh(['ps -o rss= -p $(pgrep -f "[/]opt/ghostly/ghostly-agent.cjs")']);
      return Number(r.stdout.toString().trim());
    };
    const before = await agentRssKb();
    const port = await freePort();
    const fwd = sshChild(['-N', '-L', `127.0.0.1:${port}:127.0.0.1:7010`, ALIAS]);
    expect(await hostReady({ port }), fwd.stderr()).toBe(true);
    const sock = connect({ host: '127.0.0.1', port });
    sock.pause();
    await new Promise((r) => setTimeout(r, 15_000));
    // The guest writer is held back: its socket's send queue is full and the agent stopped reading it.
    const q = await ssh(["ss -Htn state established '( sport = :7010 )'"]);
    const sendQ = Number(q.stdout.toString().trim().split(/\s+/)[1]);
    expect(sendQ, said(q)).toBeGreaterThan(64 * 1024);
    const grown = (await agentRssKb()) - before;
    expect(grown, `the agent grew by ${grown} kB while 64 MB waited`).toBeLessThan(24 * 1024);
    sock.destroy();
    await stop(fwd.child);
    await stop(server);
  });
});

describe('ssh -R (tcpip-forward, streamlocal-forward)', () => {
  it('-R carries 1 MB byte-exact both ways from a guest client to a host server, and its guest listener closes with the connection', async () => {
    const echo = await hostEcho();
    const fwd = sshChild(['-N', '-R', `127.0.0.1:7002:127.0.0.1:${echo.port}`, ALIAS]);
    expect(await until(async () => /127\.0\.0\.1:7002\b/.test(await guestListening()), 30_000), fwd.stderr()).toBe(
      true,
    );
    // The first client reads (and drops) the echo: a client that closes with the echo still unread in its
    // socket (`socat -u`) makes its kernel answer with a reset, and a reset throws away what the agent had
    // not yet read from it, which is TCP doing its job, not a forwarding fault (seen once in a CI dry run).
    const r = await ssh([
      'head -c 1048577 /dev/urandom > /tmp/r.bin && socat -t 60 - TCP:127.0.0.1:7002 < /tmp/r.bin >/dev/null; socat -t 60 TCP:127.0.0.1:7002 - < /tmp/r.bin > /tmp/r.back && sha256sum /tmp/r.bin /tmp/r.back',
    ]);
    expect(r.code, said(r)).toBe(0);
    const [sent, back] = r.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0]);
    expect(back).toBe(sent);
    // What the host server received, both times, is what the guest sent.
    expect(echo.received.length).toBe(2);
    for (const got of echo.received) expect(sha256(got)).toBe(sent);
    await stop(fwd.child);
    expect(
      await until(async () => !/:7002\b/.test(await guestListening()), 10_000),
      'the -R listener is gone from the guest',
    ).toBe(true);
    await new Promise((r2) => echo.server.close(r2));
  });

  it('-R of a guest Unix socket (streamlocal-forward) carries 1 MB both ways, and the socket goes with the connection', async () => {
    const echo = await hostEcho();
    const fwd = sshChild(['-N', '-R', `/tmp/fwd-r.sock:127.0.0.1:${echo.port}`, ALIAS]);
    expect(await until(async () => /\/tmp\/fwd-r\.sock/.test(await guestListening()), 30_000), fwd.stderr()).toBe(true);
    const r = await ssh([
      'head -c 1048576 /dev/urandom > /tmp/rs.bin && socat -t 60 UNIX-CONNECT:/tmp/fwd-r.sock - < /tmp/rs.bin > /tmp/rs.back && sha256sum /tmp/rs.bin /tmp/rs.back',
    ]);
    expect(r.code, said(r)).toBe(0);
    const [sent, back] = r.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0]);
    expect(back).toBe(sent);
    expect(sha256(echo.received[0] ?? Buffer.alloc(0))).toBe(sent);
    await stop(fwd.child);
    expect(await until(async () => !/fwd-r\.sock/.test(await guestListening()), 10_000)).toBe(true);
    const gone = await ssh(['test -e /tmp/fwd-r.sock && echo left || echo gone']);
    expect(gone.stdout.toString()).toBe('gone\n');
    await new Promise((r2) => echo.server.close(r2));
  });

  it('a -R forward cancelled on a live connection (ssh -O cancel) closes its guest listener; the connection goes on', async () => {
    const echo = await hostEcho();
    const ctl = join(local, 'ctl.sock');
    const master = sshChild(['-N', '-M', '-S', ctl, ALIAS]);
    expect(
      await until(async () => (await runTool('ssh', [...sshBase, '-S', ctl, '-O', 'check', ALIAS])).code === 0, 30_000),
      master.stderr(),
    ).toBe(true);
    const spec = `127.0.0.1:7005:127.0.0.1:${echo.port}`;
    const add = await runTool('ssh', [...sshBase, '-S', ctl, '-O', 'forward', '-R', spec, ALIAS]);
    expect(add.code, said(add)).toBe(0);
    expect(await until(async () => /127\.0\.0\.1:7005\b/.test(await guestListening()), 20_000)).toBe(true);
    const cancel = await runTool('ssh', [...sshBase, '-S', ctl, '-O', 'cancel', '-R', spec, ALIAS]);
    expect(cancel.code, said(cancel)).toBe(0);
    expect(
      await until(async () => !/:7005\b/.test(await guestListening()), 10_000),
      'the cancelled listener is gone',
    ).toBe(true);
    // The master connection still works.
    const still = await runTool('ssh', [...sshBase, '-S', ctl, ALIAS, 'echo still-$((3+4))']);
    expect(still.stdout.toString(), said(still)).toBe('still-7\n');
    await stop(master.child);
    await new Promise((r2) => echo.server.close(r2));
  });
});
