/**
 * `virtualghost __pool-clone --vm-dir DIR`: keeps one pooled clone (one process per clone, started by the
 * pool). It restores the clone from the warm snapshot, is its VMM's parent (so the VMM dies with it:
 * parent-death signal, vmm-process.ts), and warms it up as a snapshot template is warmed: a session
 * offer marked `template` with the clock a day back, an SSH login, a command over pipes and one on a
 * PTY. When that session ends the agent holds SSH until the next offer. The keeper then offers the
 * claim's session — a fresh client key, a host key of its own, the time and entropy — and hands its keys
 * to the claimer, who attaches to it (or offers its own, when it brings a key of its own).
 *
 * Who holds the VM is whoever holds this process's tie: first its stdin (the pool; EOF means the pool
 * died or let go, and an unclaimed clone is then stopped and its dir removed), then, once a claimer
 * presented the pool's token on KEEPER_SOCKET, that connection: when it closes, however the claimer
 * ended, the VM is stopped. So killing the pool ends only the clones nobody claimed, and killing a
 * claimer ends its VM — neither needs an exit handler to run.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { timingSafeEqual } from 'node:crypto';
import { errorMessage } from '../../shared/errors.js';
import { HostControl } from '../control/host-control.js';
import { readImage } from '../image/cache.js';
import { generateClientKey, generateGuestHostKey } from '../ssh/keys.js';
import { createInstanceDir, type OwnedInstanceDir } from '../store/instance-dir.js';
import { ghostPaths } from '../store/paths.js';
import { OWNER_FILE, identify, writeOwner, type ProcessIdentity } from '../store/process-identity.js';
import { listenPrivate } from '../supervisor/private-socket.js';
import type { VmDriver, VmExit } from '../vm/driver.js';
import { QemuFactory } from '../vm/qemu/factory.js';
import { warmUpTemplate } from '../vm/template-warmup.js';
import { KEEPER_SOCKET, POOLED_MARKER } from './files.js';
import {
  line,
  parseLine,
  type KeeperOrder,
  type KeeperReport,
  type PreparedSession,
  type TakenReply,
} from './keeper-protocol.js';

const log = (msg: string): void => {
  process.stderr.write(`${new Date().toISOString()} keeper ${process.pid}: ${msg}\n`);
};

function report(r: KeeperReport): void {
  // The pool may be gone (its pipe broken): what it would have learned no longer matters.
  if (process.stdout.writable) process.stdout.write(line(r), () => undefined);
}

async function readOrder(): Promise<KeeperOrder> {
  const lines = createInterface({ input: process.stdin });
  for await (const text of lines) {
    lines.close();
    const o = parseLine(text);
    if (!o) break;
    return o as unknown as KeeperOrder;
  }
  throw new Error('the pool sent no order');
}

export async function keepClone(vmDir: string): Promise<number> {
  process.stdout.on('error', () => undefined);
  const order = await readOrder();
  if (basename(vmDir) !== order.name) throw new Error(`--vm-dir ${vmDir} is not the order's ${order.name}`);
  const paths = ghostPaths();
  if (dirname(vmDir) !== paths.vmsDir) throw new Error(`--vm-dir ${vmDir} is not in ${paths.vmsDir}`);
  const abort = new AbortController();
  let dir: OwnedInstanceDir | undefined;
  let driver: VmDriver | undefined;
  let owner: Socket | undefined;
  let ending = false;

  /** Tells the claimer (if any) how the VMM ended, then exits; an unclaimed clone's dir goes too. */
  const finish = async (e: VmExit): Promise<never> => {
    const claimer = owner;
    if (claimer && !claimer.destroyed) {
      await new Promise<void>((r) => {
        claimer.end(line({ t: 'exited', ...e }), () => r());
        setTimeout(r, 1000).unref();
      });
    } else dir?.remove();
    process.exit(0);
  };
  /** Stops the VM (a claimed one's dir belongs to its claimer, which removes it). */
  const end = async (why: string): Promise<never> => {
    if (!ending) {
      ending = true;
      log(`stopping: ${why}`);
      abort.abort(new Error(why));
      await driver?.stop().catch(() => undefined);
      await finish((await driver?.exited) ?? { code: null, signal: null });
    }
    return await new Promise<never>(() => undefined);
  };
  process.stdin.on('end', () => void (owner ? undefined : end('the pool let go of the clone')));
  process.stdin.on('error', () => void (owner ? undefined : end('the pool let go of the clone')));
  process.stdin.resume();
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void end(`got ${sig}`));

  try {
    const image = readImage(paths.imagesDir, order.imageId);
    if (image.state !== 'ok') throw new Error(`image ${order.imageId} is not usable (${image.state})`);
    const factory = new QemuFactory(order.qemuBin, 'qemu-img', paths.stateDir);
    const warm = factory.warmSnapshots();
    const spec = { ...order.spec, name: order.name };
    const snap = warm.find(image.image, await warm.key(image.image, spec, order.accel));
    if (!snap) throw new Error('the warm snapshot for this shape is gone');
    dir = createInstanceDir(paths.vmsDir, order.name);
    writeFileSync(dir.file(POOLED_MARKER), `${process.pid}\n`, { mode: 0o600 });
    const restored = warm.restore(snap, spec, dir, order.accel, () => undefined);
    driver = restored.driver;
    const started = Date.now();
    await driver.start(abort.signal);
    const ids = (): { vmm?: ProcessIdentity; helpers: ProcessIdentity[] } => {
      const vmm = driver?.pid !== undefined ? identify(driver.pid) : undefined;
      const helpers = (driver?.helperPids ?? []).map((p) => identify(p)).filter((i) => i !== undefined);
      return { ...(vmm ? { vmm } : {}), helpers };
    };
    writeOwner(dir.file(OWNER_FILE), {
      host: identify(process.pid) ?? { pid: process.pid, start: 0 },
      ...ids(),
      backend: 'qemu',
      createdAt: new Date().toISOString(),
    });
    void driver.exited.then((e) => {
      if (ending) return; // end() reports it
      ending = true;
      if (!owner) report({ t: 'failed', message: 'the pooled VM exited by itself' });
      void finish(e);
    });
    await warmUpTemplate(driver, { signal: abort.signal, timeoutMs: order.timeoutMs, waitForSpare: false });
    const session = await offerSession(driver, abort.signal, order.timeoutMs);
    const token = Buffer.from(order.token);
    const server = await listenPrivate(dir.file(KEEPER_SOCKET), (sock) => {
      const lines = createInterface({ input: sock });
      sock.on('error', () => sock.destroy());
      lines.on('line', (text) => {
        const msg = parseLine(text);
        if (sock !== owner) {
          const given = Buffer.from(typeof msg?.['token'] === 'string' ? msg['token'] : '');
          if (
            owner ||
            ending ||
            msg?.['t'] !== 'take' ||
            given.length !== token.length ||
            !timingSafeEqual(given, token)
          ) {
            sock.end(line({ t: 'refused', message: owner ? 'this clone was claimed already' : 'wrong token' }));
            return;
          }
          owner = sock;
          server.close();
          rmSync(dir!.file(KEEPER_SOCKET), { force: true });
          const { vmm, helpers } = ids();
          const taken: TakenReply = {
            t: 'taken',
            vmm: vmm ?? { pid: 0, start: 0 },
            helpers: [...helpers, identify(process.pid) ?? { pid: process.pid, start: 0 }],
            restoredFrom: snap.key,
            spec: restored.spec,
            origin: vmDir,
            session,
          };
          sock.write(line(taken));
          report({ t: 'taken' });
          log(`claimed`);
          // From now on the claimer's connection is the tie: the VM ends with it.
          sock.on('close', () => void end('its claimer is gone'));
          return;
        }
        if (msg?.['t'] === 'stop') void end('its claimer stopped it');
      });
    });
    log(`ready in ${Date.now() - started} ms`);
    report({ t: 'ready', vmm: driver.pid ?? 0, readyMs: Date.now() - started });
    if (!existsSync(dir.path)) await end('its dir was removed');
    return await new Promise<number>(() => undefined);
  } catch (err) {
    if (ending) return await new Promise<number>(() => undefined);
    log(`failed: ${errorMessage(err)}`);
    report({ t: 'failed', message: errorMessage(err) });
    ending = true;
    await driver?.stop().catch(() => undefined);
    dir?.remove();
    return 1;
  }
}

/**
 * The claim's session, offered now so that a claim need not wait for it: a client key and a host key made
 * for this clone alone, the clock and fresh entropy (the template's warm-up session, marked `template`, has
 * ended, and with it SSH for its keys). The keys stay in this process's memory until the claimer that
 * presents the pool's token takes them over the keeper's 0600 socket.
 */
async function offerSession(driver: VmDriver, signal: AbortSignal, timeoutMs: number): Promise<PreparedSession> {
  const clientKey = generateClientKey();
  const hostKey = generateGuestHostKey();
  const control = new HostControl(await driver.channel('control').connect({ signal, timeoutMs }));
  try {
    await control.handshake({ clientKey: clientKey.publicOpenSsh, hostKey, signal, timeoutMs });
  } finally {
    control.close();
  }
  return { clientKey, hostKey: hostKey.publicOpenSsh };
}
