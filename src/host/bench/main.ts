/**
 * `npm run bench [-- --json] [--runs N] [--only PART,…]`: boot, exec, channel and TUI figures, each as
 * the median and spread of N runs, printed beside a baseline measured in the same run (the raw QEMU
 * boot floor; --raw for keystrokes; tmux for the terminal layer). --json also writes
 * bench-results/latest.json. Parts: boot (floor + cold VMs), warm, fleet, keystroke, terminal (local
 * program, no VM), terminal-vm, ports (published ports, on a warm-restored VM), executable (the single
 * executable: its sizes, first-run unpacking and start-up cost; it packs it twice, ≈ 2 min), resume (a
 * suspended kept VM), mounts (a 9p mount vs the VM's own disk vs a copy in over SFTP), review
 * (--review: session end → review screen for 1,000 changed files), oci (OCI image conversion and restore),
 * net (the guest network: NAT throughput, restore with --net), pool (standby pool),
 * pull (registry pulls from a local docker-registry, and pull + convert), cli (CLI process start: the
 * bundle with its code cache against ES modules).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { ensureImage } from '../image/build.js';
import { ociRows } from './oci-figures.js';
import { packageRoot } from '../image/project-files.js';
import { VmSession } from '../session.js';
import { ghostPaths } from '../store/paths.js';
import { benchFrameTime, benchThroughput } from '../tui/bench.js';
import { rawBootToInitMs } from './floor.js';
import { localKeystrokeLatencyMs, sameVmKeystrokeLatencyMs } from './keystroke.js';
import { makeMixedFile, shownThroughput } from './shown.js';
import { vmShownMBps } from './shown-vm.js';
import { summarize, type BenchRow, type Summary } from './stats.js';
import { cliExecTrueMs, fleetRun, warmRun, type WarmRun } from './warm-figures.js';
import { sftpMBps } from './sftp-figures.js';
import { firstRunExtractionMs, packExecutable } from './executable-figures.js';
import { portFigures, type PortFigures } from './port-figures.js';
import { pullFigures } from './pull-figures.js';
import { resumeFigures } from './resume-figures.js';
import { mountRows } from './mount-rows.js';
import { reviewFigures } from './review-figures.js';
import { netRows } from './net-rows.js';
import { coldSteps, type Steps } from './cold-steps.js';
import { poolFigures } from './pool-figures.js';
import { cliRows } from './cli-rows.js';
import { echoRttMs, execRoundTripMs, promptMs, rawChannelMBps, rssBytes, throughputMBps } from './vm-figures.js';

type Row = BenchRow;

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1]) || 5;
const json = argv.includes('--json');
const PARTS = [
  'boot',
  'warm',
  'fleet',
  'keystroke',
  'terminal',
  'terminal-vm',
  'ports',
  'executable',
  'resume',
  'mounts',
  'review',
  'oci',
  'net',
  'pool',
  'pull',
  'cli',
] as const;
type Part = (typeof PARTS)[number];
const only = argv.includes('--only') ? (argv[argv.indexOf('--only') + 1] ?? '').split(',') : [...PARTS];
const unknownPart = only.find((p) => !(PARTS as readonly string[]).includes(p));
const want = (part: Part): boolean => only.includes(part);
const log = (m: string): void => void process.stderr.write(`bench: ${m}\n`);

async function main(): Promise<void> {
  const paths = ghostPaths();
  const config = loadConfig(paths.configFile, process.env, { accel: 'tcg' });
  if (unknownPart !== undefined)
    throw new Error(`--only: unknown part ${JSON.stringify(unknownPart)}; parts are ${PARTS.join(', ')}`);
  // Only the terminal part runs without a VM (pull converts, which needs the base image).
  const image = PARTS.some((p) => p !== 'terminal' && p !== 'cli' && want(p))
    ? await ensureImage({ imagesDir: paths.imagesDir })
    : undefined;
  const rows: Row[] = [];
  const coldRuns: Steps[] = [];
  if (image && want('boot')) await bootRows(rows, config, paths, image, coldRuns);
  const warm = want('warm') ? await warmRows(rows, config, paths) : [];
  if (want('fleet')) await fleetRows(rows, config, paths, warm);
  if (want('keystroke')) await keystrokeRows(rows);
  if (want('terminal')) await terminalRows(rows, config.values['tui.scrollback']);
  if (want('terminal-vm')) await vmTerminalRows(rows, config.values['tui.scrollback']);
  if (want('ports')) await portRows(rows, config, paths);
  if (want('executable')) await executableRows(rows);
  if (want('resume')) await resumeRows(rows);
  if (want('mounts')) await mountRows(rows, config, paths, log);
  if (want('review')) await reviewRows(rows, config, paths);
  if (image && want('oci')) await ociRows(rows, paths, image, runs, warm, log);
  if (want('net')) await netRows(rows, paths, runs, log);
  if (want('pool')) await poolRows(rows, config, paths);
  if (image && want('pull')) await pullRows(rows, image);
  if (want('cli')) await cliRows(rows, runs, log);

  printTable(rows);
  if (coldRuns.length) printSteps('cold boot', coldRuns);
  if (warm.length)
    printSteps(
      'warm restore',
      warm.map((w) => w.steps),
    );
  if (json) {
    const dir = join(packageRoot(), 'bench-results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'latest.json');
    writeFileSync(
      file,
      `${JSON.stringify({ at: new Date().toISOString(), runs, only, machine: machineInfo(), rows, coldSteps: coldRuns, warmSteps: warm.map((w) => w.steps) }, null, 2)}\n`,
    );
    log(`wrote ${file}`);
  }
}

/** The single executable (#17): sizes, first-run unpacking, and its start-up cost on a warm `exec -- true`. */
async function executableRows(rows: Row[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vg-bench-exe-'));
  try {
    log('executable: npm run package, with and without the image');
    const full = await packExecutable(dir, true);
    const bare = await packExecutable(dir, false);
    rows.push({ figure: 'executable size (with the image)', unit: 'MB', value: summarize([full.bytes / 1e6]) });
    rows.push({ figure: 'executable size (--no-image)', unit: 'MB', value: summarize([bare.bytes / 1e6]) });
    log(`executable: first-run image unpacking into an empty cache, ${runs} runs`);
    const unpack: number[] = [];
    for (let i = 0; i < runs; i++) unpack.push(await firstRunExtractionMs(full.file));
    rows.push({
      figure: 'first run: unpack the image (image build)',
      unit: 's',
      value: summarize(unpack.map((x) => x / 1000)),
    });
    log(`executable: \`exec -- true\` warm, from the executable and from node bin/virtualghost.js, ${runs} runs each`);
    await cliExecTrueMs(false, [full.file]); // its image is this cache's: makes sure the warm snapshot exists
    const exe: number[] = [];
    const node: number[] = [];
    for (let i = 0; i < runs; i++) {
      exe.push(await cliExecTrueMs(false, [full.file]));
      node.push(await cliExecTrueMs(false));
    }
    rows.push({
      figure: '`virtualghost exec -- true` warm, single executable',
      unit: 's',
      value: summarize(exe.map((x) => x / 1000)),
      baseline: { name: 'node bin/virtualghost.js', value: summarize(node.map((x) => x / 1000)) },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Config = ReturnType<typeof loadConfig>;
type Paths = ReturnType<typeof ghostPaths>;

async function bootRows(
  rows: Row[],
  config: Config,
  paths: Paths,
  image: Awaited<ReturnType<typeof ensureImage>>,
  coldRuns: Steps[],
): Promise<void> {
  log(`floor: raw QEMU boot of the same kernel + initramfs to a trivial init, ${runs} runs`);
  const floor: number[] = [];
  for (let i = 0; i < runs; i++) floor.push(await rawBootToInitMs(image, config.values.memory));

  log(`cold VMs: ${runs} boots`);
  const agent: number[] = [],
    ready: number[] = [],
    prompt: number[] = [],
    execRtt: number[] = [],
    qemuRss: number[] = [],
    hostRss: number[] = [],
    guestMem: number[] = [];
  let rtt: number[] = [];
  let tput = { down: Number.NaN, up: Number.NaN };
  let sftp = { put: Number.NaN, get: Number.NaN };
  let raw: { down: number[]; up: number[] } = { down: [], up: [] };
  for (let i = 0; i < runs; i++) {
    const s = await VmSession.start({
      config,
      paths,
      cold: true,
      signal: new AbortController().signal,
      onPhase: (p) => log(`  boot ${i + 1}: ${p}`),
    });
    try {
      agent.push(s.timings.agentMs);
      ready.push(s.timings.readyMs);
      prompt.push(await promptMs(s));
      s.trace.mark('prompt');
      coldRuns.push(await coldSteps(s));
      log(`  boot ${i + 1}: prompt after ${prompt[prompt.length - 1]} ms`);
      const ssh = s.ssh;
      if (!ssh) throw new Error('no ssh');
      for (let k = 0; k < 5; k++) execRtt.push(await execRoundTripMs(ssh));
      qemuRss.push(rssBytes(s.driver.pid));
      hostRss.push(process.memoryUsage().rss);
      const stats = s.control?.lastStats;
      if (stats) guestMem.push(stats.memUsedBytes);
      if (i === runs - 1) {
        log('  echo RTT (300 round trips)');
        rtt = await echoRttMs(ssh, 300);
        log('  SSH throughput (16 MB each way)');
        tput = await throughputMBps(ssh, 16);
        log('  SFTP (16 MB each way)');
        sftp = await sftpMBps(ssh, 16);
        log(`  raw channel throughput (64 MB each way, no SSH, ${Math.max(3, runs)} runs)`);
        raw = await rawChannelMBps(s, 64, Math.max(3, runs));
      }
    } finally {
      await s.close();
    }
  }
  rows.push({
    figure: 'spawn → agent ready (cold)',
    unit: 's',
    value: summarize(agent.map((x) => x / 1000)),
    baseline: { name: 'raw boot to init', value: summarize(floor.map((x) => x / 1000)) },
  });
  rows.push({
    figure: 'spawn → SSH ready (cold)',
    unit: 's',
    value: summarize(ready.map((x) => x / 1000)),
    baseline: { name: 'raw boot to init', value: summarize(floor.map((x) => x / 1000)) },
  });
  rows.push({
    figure: 'spawn → shell prompt (cold)',
    unit: 's',
    value: summarize(prompt.map((x) => x / 1000)),
    baseline: { name: 'raw boot to init', value: summarize(floor.map((x) => x / 1000)) },
  });
  rows.push({ figure: '`exec true` round trip (warm connection)', unit: 'ms', value: summarize(execRtt) });
  rows.push({ figure: 'echo RTT through SSH channel', unit: 'ms', value: summarize(rtt) });
  rows.push({ figure: 'channel guest → host (virtio-serial, no SSH)', unit: 'MB/s', value: summarize(raw.down) });
  rows.push({ figure: 'channel host → guest (virtio-serial, no SSH)', unit: 'MB/s', value: summarize(raw.up) });
  rows.push({ figure: 'throughput guest → host (SSH exec)', unit: 'MB/s', value: summarize([tput.down]) });
  rows.push({ figure: 'throughput host → guest (SSH exec)', unit: 'MB/s', value: summarize([tput.up]) });
  rows.push({ figure: 'SFTP put, host → guest', unit: 'MB/s', value: summarize([sftp.put]) });
  rows.push({ figure: 'SFTP get, guest → host', unit: 'MB/s', value: summarize([sftp.get]) });
  rows.push({ figure: 'QEMU RSS per VM', unit: 'MB', value: summarize(qemuRss.map((x) => x / 1e6)) });
  rows.push({ figure: 'host process RSS', unit: 'MB', value: summarize(hostRss.map((x) => x / 1e6)) });
  if (guestMem.length)
    rows.push({ figure: 'guest memory used after boot', unit: 'MB', value: summarize(guestMem.map((x) => x / 1e6)) });
  rows.push({
    figure: 'image build (last, from its manifest)',
    unit: 's',
    value: summarize([image.manifest.buildSeconds]),
  });
}

async function warmRows(rows: Row[], config: Config, paths: Paths): Promise<WarmRun[]> {
  log(`warm restores: ${runs} runs (the first run creates the snapshot if needed)`);
  const warmUp = await VmSession.start({ config, paths, signal: new AbortController().signal });
  await warmUp.close();
  const warm: WarmRun[] = [];
  for (let i = 0; i < runs; i++) {
    warm.push(await warmRun(config, paths));
    log(`  restore ${i + 1}: prompt ${warm[warm.length - 1]?.startToPrompt.toFixed(0)} ms after the session start`);
  }
  // The cold figures are the baselines when the boot part ran too.
  const cold = (figure: string): Summary | undefined => rows.find((r) => r.figure === figure)?.value;
  const coldReady = cold('spawn → SSH ready (cold)');
  const coldPrompt = cold('spawn → shell prompt (cold)');
  const vsCold = (name: string, v: Summary | undefined): Partial<Row> => (v ? { baseline: { name, value: v } } : {});
  const s = (xs: number[]): Summary => summarize(xs.map((x) => x / 1000));
  rows.push({
    figure: 'spawn → SSH ready (warm restore)',
    unit: 's',
    value: s(warm.map((w) => w.spawnToReady)),
    ...vsCold('cold SSH ready', coldReady),
  });
  rows.push({
    figure: 'session start → shell prompt (warm restore)',
    unit: 's',
    value: s(warm.map((w) => w.startToPrompt)),
    ...vsCold('cold prompt', coldPrompt),
  });
  rows.push({
    figure: 'QEMU spawn → shell prompt (warm restore)',
    unit: 's',
    value: s(warm.map((w) => w.spawnToPrompt)),
    ...vsCold('cold prompt', coldPrompt),
  });
  // Why a restore is not faster under TCG: everything the clone runs is translated afresh.
  const another = summarize(warm.map((w) => w.anotherSsh.ms));
  rows.push({
    figure: 'TCG blocks translated, restore → SSH ready',
    unit: 'k',
    value: summarize(warm.map((w) => w.translatedToReady / 1000)),
  });
  rows.push({
    figure: 'TCG blocks translated, one more SSH connection',
    unit: 'k',
    value: summarize(warm.map((w) => w.anotherSsh.translated / 1000)),
  });
  rows.push({ figure: 'one more SSH connection to a restored VM', unit: 'ms', value: another });
  rows.push({
    figure: 'QEMU RSS per VM (warm restore, at the prompt)',
    unit: 'MB',
    value: summarize(warm.map((w) => w.qemuRssBytes / 1e6)),
  });

  log(`\`virtualghost exec -- true\` as a fresh CLI process: ${runs} warm, ${Math.min(runs, 3)} cold`);
  const cliWarm: number[] = [],
    cliCold: number[] = [];
  for (let i = 0; i < runs; i++) cliWarm.push(await cliExecTrueMs(false));
  for (let i = 0; i < Math.min(runs, 3); i++) cliCold.push(await cliExecTrueMs(true));
  rows.push({
    figure: 'CLI `exec -- true`, process start → exit (warm)',
    unit: 's',
    value: s(cliWarm),
    baseline: { name: 'cold', value: s(cliCold) },
  });
  return warm;
}

async function poolRows(rows: Row[], config: Config, paths: Paths): Promise<void> {
  const p = await poolFigures(config, paths, runs, log);
  const s = summarize;
  rows.push({
    figure: 'CLI `exec -- true` with a warm pool',
    unit: 's',
    value: s(p.execWithPoolS),
    baseline: { name: 'without a pool', value: s(p.execWithoutPoolS) },
  });
  rows.push({
    figure: 'session start → shell prompt, from the pool',
    unit: 'ms',
    value: s(p.promptFromPoolMs),
    baseline: { name: 'warm restore', value: s(p.promptWarmMs) },
  });
  rows.push({ figure: 'pool of 1, idle: host CPU', unit: '%', value: s([p.idle.cpuPercent]) });
  rows.push({ figure: 'pool of 1, idle: RSS (pool, keeper, QEMU)', unit: 'MB', value: s([p.idle.rssKiB / 1024]) });
  rows.push({ figure: 'pool of 1, idle: PSS', unit: 'MB', value: s([p.idle.pssKiB / 1024]) });
  rows.push({ figure: 'pool of 1, idle: VMM wakeups', unit: '/s', value: s([p.idle.vmmWakeupsPerSec]) });
  rows.push({
    figure: 'back-to-back: 5 execs 0.5 s apart, served by the pool',
    unit: 'of 5',
    value: s([p.backToBackHits]),
  });
}

async function fleetRows(rows: Row[], config: Config, paths: Paths, warm: WarmRun[]): Promise<void> {
  const fleet = 8;
  log(`${fleet} VMs restored at once`);
  const f = await fleetRun(config, paths, fleet);
  const one = warm.length ? { baseline: { name: 'one restore, SSH ready', value: summarize(wReadyOf(warm)) } } : {};
  rows.push({
    figure: `${fleet} VMs restored at once: all SSH-ready`,
    unit: 's',
    value: summarize([f.allReady / 1000]),
    ...one,
  });
  rows.push({
    figure: `${fleet} VMs restored at once: each SSH-ready`,
    unit: 's',
    value: summarize(f.each.map((x) => x / 1000)),
  });
  rows.push({
    figure: `${fleet} VMs restored at once: total QEMU RSS`,
    unit: 'MB',
    value: summarize([f.qemuRssBytes / 1e6]),
  });
  // RSS counts the snapshot's RAM file pages in every clone that maps them; PSS shares them out.
  rows.push({
    figure: `${fleet} VMs restored at once: total QEMU PSS`,
    unit: 'MB',
    value: summarize([f.qemuPssBytes / 1e6]),
  });
}

async function pullRows(rows: Row[], base: Awaited<ReturnType<typeof ensureImage>>): Promise<void> {
  log(`registry pulls: a ~30 MB and a ~150 MB image from a local docker-registry into an empty cache, ${runs} runs`);
  for (const f of await pullFigures(runs, base, log)) {
    rows.push({
      figure: `image pull, ${f.megabytes.toFixed(0)} MB image (empty layer cache)`,
      unit: 's',
      value: summarize(f.pullSeconds),
      baseline: { name: 'plain HTTP GET of its blobs', value: summarize(f.plainSeconds) },
    });
    rows.push({
      figure: `pull + convert, ${f.megabytes.toFixed(0)} MB image (empty caches)`,
      unit: 's',
      value: summarize(f.pullConvertSeconds),
      baseline: { name: 'pull alone', value: summarize(f.pullSeconds) },
    });
  }
}

async function reviewRows(rows: Row[], config: Config, paths: Paths): Promise<void> {
  log(`--review: one VM, session end → review screen, 1,000 new files and none, ${runs} runs each`);
  const s = await VmSession.start({ config, paths, signal: new AbortController().signal });
  try {
    const f = await reviewFigures(s, 1000, runs);
    rows.push({
      figure: '--review: session end → review screen (1,000 files)',
      unit: 's',
      value: summarize(f.changedMs.map((x) => x / 1000)),
      baseline: { name: 'no changes', value: summarize(f.emptyMs.map((x) => x / 1000)) },
    });
  } finally {
    await s.close();
  }
}

async function portRows(rows: Row[], config: Config, paths: Paths): Promise<void> {
  log(
    "published ports: one VM, 16 MB each way, connection setup x20 (the same SSH connection's exec channel and bare direct-tcpip as baselines)",
  );
  const s = await VmSession.start({ config, paths, signal: new AbortController().signal });
  let f: PortFigures;
  try {
    f = await portFigures(s, 16, 20);
  } finally {
    await s.close();
  }
  rows.push({
    figure: 'published port guest → host (SSH direct-tcpip)',
    unit: 'MB/s',
    value: summarize([f.down]),
    baseline: { name: 'SSH exec', value: summarize([f.sshDown]) },
  });
  rows.push({
    figure: 'published port host → guest (SSH direct-tcpip)',
    unit: 'MB/s',
    value: summarize([f.up]),
    baseline: { name: 'SSH exec', value: summarize([f.sshUp]) },
  });
  rows.push({
    figure: 'published port: connect → first byte',
    unit: 'ms',
    value: summarize(f.setupMs),
    baseline: { name: 'bare direct-tcpip', value: summarize(f.channelSetupMs) },
  });
}

async function resumeRows(rows: Row[]): Promise<void> {
  log(`suspended kept VM: ${runs} × (stop, run NAME → prompt), then ${runs} cold boots of the same kept disk`);
  const f = await resumeFigures(runs, log);
  rows.push({
    figure: '`run NAME` of a suspended VM → shell prompt',
    unit: 's',
    value: f.resumeToPrompt,
    baseline: { name: 'cold boot of the same kept VM', value: f.coldToPrompt },
  });
  rows.push({ figure: '`stop NAME` of a kept VM (saving it)', unit: 's', value: f.suspend });
  rows.push({ figure: "suspended VM's saved state", unit: 'MB', value: f.stateBytes });
}

async function keystrokeRows(rows: Row[]): Promise<void> {
  log(
    'keystroke → screen latency on one named VM: attach (TUI), attach --raw, OpenSSH via proxy (100 keys each, through a PTY)',
  );
  const k = await sameVmKeystrokeLatencyMs(100);
  rows.push({
    figure: 'keystroke → screen, TUI (attach)',
    unit: 'ms',
    value: summarize(k.tui),
    baseline: { name: '--raw', value: summarize(k.raw) },
  });
  rows.push({ figure: 'keystroke → screen, --raw (attach --raw)', unit: 'ms', value: summarize(k.raw) });
  rows.push({
    figure: 'keystroke → screen, OpenSSH via proxy (ssh -tt)',
    unit: 'ms',
    value: summarize(k.openssh),
    baseline: { name: '--raw', value: summarize(k.raw) },
  });
  // The same around a local program whose kernel PTY echoes at once: what the TUI itself adds.
  log('keystroke → screen latency: TUI vs raw passthrough around a local program (300 keys each)');
  const lRaw = await localKeystrokeLatencyMs('raw', 300);
  const lTui = await localKeystrokeLatencyMs('tui', 300);
  rows.push({
    figure: 'keystroke → screen, TUI (local program)',
    unit: 'ms',
    value: summarize(lTui),
    baseline: { name: 'raw passthrough', value: summarize(lRaw) },
  });
  rows.push({ figure: 'keystroke → screen, raw (local program)', unit: 'ms', value: summarize(lRaw) });
}

async function terminalRows(rows: Row[], scrollback: number): Promise<void> {
  // A local program plays the guest: through a VM both sides would measure its ~3 MB/s SSH path.
  log('shown throughput: 100 MB of mixed text/SGR through the TUI, and through tmux + raw passthrough');
  const mixed = makeMixedFile(100);
  let rss1g: Awaited<ReturnType<typeof shownThroughput>>;
  let tui: Awaited<ReturnType<typeof shownThroughput>>;
  let tmux: Awaited<ReturnType<typeof shownThroughput>>;
  try {
    tui = await shownThroughput({ via: 'tui', file: mixed.file, fileBytes: mixed.bytes, scrollback });
    tmux = await shownThroughput({ via: 'tmux', file: mixed.file, fileBytes: mixed.bytes, scrollback });
    log(
      `TUI process memory: the same file 10 times (${((mixed.bytes * 10) / 1e9).toFixed(2)} GB), tui.scrollback = ${scrollback}`,
    );
    rss1g = await shownThroughput({ via: 'tui', file: mixed.file, fileBytes: mixed.bytes, repeat: 10, scrollback });
  } finally {
    mixed.dispose();
  }
  const one = (x: number): Summary => summarize([x]);
  rows.push({
    figure: 'shown: TUI, local program, 100 MB mixed SGR',
    unit: 'MB/s',
    value: one(tui.mbPerSec),
    baseline: { name: 'tmux + raw', value: one(tmux.mbPerSec) },
  });
  rows.push({ figure: 'shown: tmux + raw passthrough, same 100 MB', unit: 'MB/s', value: one(tmux.mbPerSec) });
  rows.push({
    figure: `TUI process RSS after 1 GB (scrollback ${scrollback})`,
    unit: 'MB',
    value: one(rss1g.rssBytes / 1e6),
    baseline: { name: 'after 100 MB', value: one(tui.rssBytes / 1e6) },
  });
  rows.push({ figure: 'TUI process peak RSS during that 1 GB', unit: 'MB', value: one(rss1g.peakRssBytes / 1e6) });
  rows.push({ figure: 'tmux server + raw RSS after 100 MB', unit: 'MB', value: one(tmux.rssBytes / 1e6) });

  log('TUI renderer');
  const tp = await benchThroughput({ megabytes: 32 });
  const ft = await benchFrameTime({ cols: 200, rows: 50, frames: 300 });
  rows.push({
    figure: 'TUI emulator+renderer throughput (mixed SGR text)',
    unit: 'MB/s',
    value: summarize([tp.mbPerSec]),
  });
  rows.push({
    figure: 'TUI full-frame render 200×50',
    unit: 'ms',
    value: { n: ft.frames, median: ft.p50Ms, min: Number.NaN, max: Number.NaN, p99: ft.p99Ms },
  });
  const fe = await benchFrameTime({ cols: 200, rows: 50, frames: 300, content: 'emoji' });
  rows.push({
    figure: 'TUI full-frame render 200×50, all emoji',
    unit: 'ms',
    value: { n: fe.frames, median: fe.p50Ms, min: Number.NaN, max: Number.NaN, p99: fe.p99Ms },
    baseline: {
      name: 'ASCII frame',
      value: { n: ft.frames, median: ft.p50Ms, min: Number.NaN, max: Number.NaN, p99: ft.p99Ms },
    },
  });
  log(`TUI full frame 200×50: ${ft.p50Bytes} bytes of ANSI (ASCII), ${fe.p50Bytes} (all emoji)`);
}

async function vmTerminalRows(rows: Row[], scrollback: number): Promise<void> {
  // Small: a guest PTY under TCG shows only ~0.1–0.2 MB/s whatever the terminal (8 MB took a minute).
  const mb = 2;
  log(
    `shown throughput on a real VM: ${mb} MB of mixed output, \`run\` (TUI) vs tmux running \`run --raw\`, 3 runs each`,
  );
  // Interleaved, 3 each: single runs on this shared TCG host varied 2× (0.10–0.21 MB/s).
  const tui: number[] = [];
  const tmux: number[] = [];
  for (let i = 0; i < 3; i++) {
    tmux.push(await vmShownMBps('tmux', mb, scrollback));
    tui.push(await vmShownMBps('tui', mb, scrollback));
  }
  rows.push({
    figure: `shown: TUI, real VM, ${mb} MB mixed SGR`,
    unit: 'MB/s',
    value: summarize(tui),
    baseline: { name: 'tmux + run --raw', value: summarize(tmux) },
  });
}

function machineInfo(): Record<string, unknown> {
  return {
    node: process.version,
    cores: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency,
    accel: 'tcg',
  };
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '—';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function wReadyOf(warm: WarmRun[]): number[] {
  return warm.map((w) => w.startToReady / 1000);
}

/** The warm start step by step: the median of each step of the session's start trace. */
function printSteps(title: string, runSteps: Steps[]): void {
  const labels = runSteps[0]?.map(([label]) => label) ?? [];
  const out = ['', `${title}, step by step (median of ${runSteps.length}; ms since the previous step)`];
  for (const label of labels) {
    const v = summarize(runSteps.flatMap((steps) => steps.filter(([l]) => l === label).map(([, ms]) => ms)));
    out.push(`  ${label.padEnd(40)}${fmt(v.median).padStart(8)}   (${fmt(v.min)}–${fmt(v.max)})`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

function printTable(rows: Row[]): void {
  const out: string[] = [];
  out.push(
    `${'figure'.padEnd(52)}${'median'.padStart(10)}${'min–max'.padStart(16)}${'p99'.padStart(9)}  ${'unit'.padEnd(5)} vs baseline`,
  );
  for (const r of rows) {
    const ratio = r.baseline
      ? `${(r.value.median / r.baseline.value.median).toFixed(2)}× ${r.baseline.name} (${fmt(r.baseline.value.median)} ${r.unit})`
      : '';
    out.push(
      `${r.figure.padEnd(52)}${fmt(r.value.median).padStart(10)}${`${fmt(r.value.min)}–${fmt(r.value.max)}`.padStart(16)}${fmt(r.value.p99).padStart(9)}  ${r.unit.padEnd(5)} ${ratio}`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
