/**
 * ghostly-agent: the guest half of VirtualGhost. Listens on two Unix sockets inside the guest; the
 * native bridge (virtio-serial) or socat (vsock) joins each transport stream to them. The guest's init
 * restarts it if it dies (GHOSTLY_STARTS counts the starts, reported to the host in `agent-hello`).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { SessionOffer } from '../shared/control.js';
import { GUEST_SOCKETS } from '../shared/ports.js';
import { serveControl } from './control-server.js';
import { generateHostKey, loadClientKey, loadOrGenerateHostKey, saveClientKey, type HostKey } from './keys.js';
import { STATE_DIR } from './paths.js';
import { AgentSshServer } from './ssh-server.js';
import { addEntropy, powerOff, setClock } from './system.js';

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
  const starts = Number(process.env['GHOSTLY_STARTS'] ?? '1') || 1;

  const applySession = async (offer: SessionOffer, receivedAtMonoNs: bigint): Promise<HostKey> => {
    // Entropy before the key: a clone restored from a snapshot shares the CRNG state of its siblings until
    // then, and the new host key is drawn from the kernel CRNG. The clock compensates for its own delay.
    await Promise.all([addEntropy(Buffer.from(offer.entropy, 'base64')), setClock(offer.timeMs, receivedAtMonoNs)]);
    if (offer.newHostKey) hostKey = generateHostKey();
    saveClientKey(offer.clientKey);
    clientKey = offer.clientKey;
    return hostKey;
  };

  const ssh = new AgentSshServer({ hostKeyPem: () => hostKey.privatePem, allowedClientKey: () => clientKey, log });
  listen(GUEST_SOCKETS.ssh, (s) => ssh.handle(s));
  listen(GUEST_SOCKETS.control, (s) => serveControl(s, { starts, applySession, powerOff, log }));
  log(`listening (start #${starts}, pid ${process.pid})`);
}

process.on('uncaughtException', (err) => {
  // Dying is fine (the init restarts us and the host is told); limping on in an unknown state is not.
  log(`fatal: ${err.stack ?? err.message}`);
  process.exit(70);
});

main();
