/**
 * ghostly-agent: the guest half of VirtualGhost. Listens on two Unix sockets inside the guest; the
 * native bridge (virtio-serial) or socat (vsock) joins each transport stream to them. The guest's init
 * restarts it if it dies (GHOSTLY_STARTS counts the starts, reported to the host in `agent-hello`).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { SSH_HELD_LOG, type SessionOffer } from '../shared/control.js';
import { GUEST_SOCKETS } from '../shared/ports.js';
import { serveControl } from './control-server.js';
import { adoptHostKey, loadClientKey, loadOrGenerateHostKey, saveClientKey, type HostKey } from './keys.js';
import { SshGate } from './ssh-gate.js';
import { mountShared } from './mounts.js';
import { STATE_DIR } from './paths.js';
import { AgentSshServer } from './ssh-server.js';
import { SpareShell } from './spare-shell.js';
import { KeptShells } from './kept-shells.js';
import { powerOff, SessionHelper } from './system.js';
import { CODE_CACHE_OUT_ENV } from '../shared/agent-start.js';

const log = (msg: string): void => {
  process.stderr.write(`ghostly-agent: ${msg}\n`);
};

function listen(path: string, onSocket: (s: Socket) => void): void {
  rmSync(path, { force: true });
  const server = createServer({ allowHalfOpen: false }, onSocket);
  server.on('error', (err) => {
    log(`cannot listen on ${path}: ${err.message}`);
    process.exit(1);
  });
  server.listen(path);
}

function main(): void {
  process.umask(0o077);
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  let hostKey: HostKey = loadOrGenerateHostKey();
  let clientKey = loadClientKey();
  /**
   * Whether the keys in force came from an offer since this agent started that was not a template's: only
   * then may a host connection `attach` to them (a key loaded from a kept disk, or a clone's template's, never).
   */
  let sessionOffered = false;
  const starts = Number(process.env['GHOSTLY_STARTS'] ?? '1') || 1;

  const helper = new SessionHelper();
  const spare = new SpareShell(log);

  const applySession = async (offer: SessionOffer, receivedAtMonoNs: bigint): Promise<HostKey> => {
    // Entropy before anything draws randomness: a clone restored from a snapshot shares the kernel CRNG
    // state of its siblings until then, and the new host key is drawn from the kernel CRNG. The helper
    // reseeds first and then sets the clock (compensating for its own delay).
    const ms = (from: bigint): string => (Number(process.hrtime.bigint() - from) / 1e6).toFixed(1);
    const t0 = process.hrtime.bigint();
    await helper.apply(Buffer.from(offer.entropy, 'base64'), offer.timeMs, receivedAtMonoNs);
    const reseedAndClock = ms(t0);
    const t1 = process.hrtime.bigint();
    // OpenSSL's DRBGs in this process (crypto.randomBytes, ssh2's key exchange) are also snapshot state.
    // OpenSSL 3 reseeds its primary DRBG from the kernel when time() moved backwards or more than an
    // hour since its last reseed, and the per-thread DRBGs follow the primary's reseed counter. The
    // snapshot template's session sets the clock a day back (host template-warmup.ts), so this clock step makes this
    // draw reseed the whole chain from the freshly reseeded kernel CRNG, before SSH needs it.
    randomBytes(16);
    const drbg = ms(t1);
    const t2 = process.hrtime.bigint();
    const adopted = offer.hostKey ? adoptHostKey(offer.hostKey) : undefined;
    if (adopted) hostKey = adopted.hostKey;
    clientKey = offer.clientKey;
    const keys = ms(t2);
    const t3 = process.hrtime.bigint();
    await mountShared(offer.mounts ?? [], helper);
    const mounts = ms(t3);
    const total = ms(receivedAtMonoNs);
    // The offer is in force: held SSH connections (a clone's, sent in parallel with this offer) may go on.
    sessionOffered = offer.template !== true;
    gate.open();
    // After `ready` is on its way: the files a restarted agent reads, and the first tab's login shell
    // (see spare-shell.ts). None of it is needed to answer, and all of it is cold code after a restore.
    setImmediate(() => {
      adopted?.save();
      saveClientKey(offer.clientKey);
      log(
        `session applied in ${total} ms since it arrived: reseed + clock ${reseedAndClock} ms, DRBG reseed ${drbg} ms, keys ${keys} ms, mounts ${mounts} ms`,
      );
      spare.ensure();
    });
    return hostKey;
  };

  const ssh = new AgentSshServer({
    hostKeyPem: () => hostKey.privatePem,
    allowedClientKey: () => clientKey,
    spare,
    kept: new KeptShells(log),
    log,
  });
  const gate = new SshGate((s) => ssh.handle(s));
  const templateSessionEnded = (): void => {
    sessionOffered = false;
    gate.close();
    // The snapshot follows: collect now, so a clone does not start with a collection (see init.sh).
    (globalThis as { gc?: () => void }).gc?.();
    log(SSH_HELD_LOG);
  };
  listen(GUEST_SOCKETS.ssh, (s) => gate.admit(s));
  listen(GUEST_SOCKETS.control, (s) =>
    serveControl(s, {
      starts,
      applySession,
      powerOff,
      log,
      templateSessionEnded,
      attachableSession: () => (sessionOffered ? hostKey : undefined),
    }),
  );
  log(`listening (start #${starts}, pid ${process.pid})`);
}

process.on('uncaughtException', (err) => {
  // Dying is fine (the init restarts us and the host is told); limping on in an unknown state is not.
  log(`fatal: ${err.stack ?? err.message}`);
  process.exit(70);
});

// The image build loads the bundle only to make its code cache (agent-loader.ts): nothing to serve then.
if (process.env[CODE_CACHE_OUT_ENV] === undefined) main();
