/**
 * The agent's end of the control stream. Each connection (one per host connection, the bridge sees to
 * that) starts with our `agent-hello`; a `session` offer mixes in entropy, sets the clock, installs the
 * client key (and the host key, if the host made one) and is answered with `ready` (our host key, to be
 * pinned). Then `stats` once a second. An `attach` takes over a session offered earlier on another
 * connection (a standby pool's keeper offers it, the claimer attaches): `ready` and stats at once.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { encodeFrame, LineSplitter, parseHostFrame, type AgentFrame, type SessionOffer } from '../shared/control.js';
import { errorMessage } from '../shared/errors.js';
import { CONTROL_PROTOCOL_VERSION, PRODUCT_VERSION } from '../shared/version.js';
import type { HostKey } from './keys.js';
import { StatsSampler } from './stats.js';

export interface ControlDeps {
  starts: number;
  /** Applies a session offer; returns the host key now in force. */
  applySession(offer: SessionOffer, receivedAtMonoNs: bigint): Promise<HostKey>;
  powerOff(): void;
  log(msg: string): void;
  /** A snapshot template's session (offer.template) has ended: hold SSH until the next offer. */
  templateSessionEnded(): void;
  /** The host key of the session an `attach` takes over, or undefined when there is none to take over. */
  attachableSession(): HostKey | undefined;
}

const STATS_INTERVAL_MS = 1000;

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

export function serveControl(socket: Socket, deps: ControlDeps): void {
  const send = (frame: AgentFrame): void => {
    if (!socket.destroyed) socket.write(encodeFrame(frame));
  };
  const splitter = new LineSplitter();
  let statsTimer: NodeJS.Timeout | undefined;
  let templateSession = false;
  socket.on('close', () => {
    clearInterval(statsTimer);
    if (templateSession) deps.templateSessionEnded();
  });
  socket.on('error', () => socket.destroy());

  send({
    type: 'agent-hello',
    protocol: CONTROL_PROTOCOL_VERSION,
    version: PRODUCT_VERSION,
    pid: process.pid,
    bootId: bootId(),
    starts: deps.starts,
  });

  const ready = (hostKey: HostKey): void => {
    send({ type: 'ready', hostKey: hostKey.publicOpenSsh, fingerprint: hostKey.fingerprint });
    clearInterval(statsTimer);
    const sampler = new StatsSampler();
    statsTimer = setInterval(() => {
      try {
        send(sampler.sample());
      } catch (err) {
        deps.log(`stats: ${errorMessage(err)}`);
      }
    }, STATS_INTERVAL_MS);
    statsTimer.unref();
  };

  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    const receivedAt = process.hrtime.bigint();
    let lines: string[];
    try {
      lines = splitter.push(chunk);
    } catch (err) {
      send({ type: 'error', message: errorMessage(err) });
      socket.destroy();
      return;
    }
    for (const line of lines) {
      let frame;
      try {
        frame = parseHostFrame(line);
      } catch (err) {
        deps.log(`control: ${errorMessage(err)}`);
        send({ type: 'error', message: errorMessage(err) });
        continue;
      }
      if (frame.type === 'poweroff') {
        deps.powerOff();
        continue;
      }
      if (frame.type === 'attach') {
        const hostKey = deps.attachableSession();
        if (hostKey) ready(hostKey);
        else send({ type: 'error', message: 'no session to attach to: offer one' });
        continue;
      }
      templateSession = frame.template === true;
      deps
        .applySession(frame, receivedAt)
        .then(ready)
        .catch((err: unknown) => send({ type: 'error', message: `session setup failed: ${errorMessage(err)}` }));
    }
  });
}
