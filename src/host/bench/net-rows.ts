/**
 * The bench's `net` part (#14 §4): TCP throughput through the NAT (guest ↔ a host 127.0.0.1 server,
 * `--net-host`) beside the bare guest channel of the same VM, and warm restore → prompt with `--net-host`
 * against without a network, alternating run by run so both see the same load.
 */
import { loadConfig } from '../config/load.js';
import { VmSession } from '../session.js';
import type { GhostPaths } from '../store/paths.js';
import { natFigures } from './net-figures.js';
import { summarize, type BenchRow, type Summary } from './stats.js';
import { warmRun } from './warm-figures.js';

export async function netRows(
  rows: BenchRow[],
  paths: GhostPaths,
  runs: number,
  log: (m: string) => void,
): Promise<void> {
  const plain = loadConfig(paths.configFile, process.env, { accel: 'tcg', 'net.mode': 'none' });
  const net = loadConfig(paths.configFile, process.env, { accel: 'tcg', 'net.mode': 'nat', 'net.host_access': true });
  log('guest network: making sure both warm templates exist (none, --net-host)');
  for (const config of [plain, net])
    await (await VmSession.start({ config, paths, signal: AbortSignal.timeout(600_000) })).close();

  log(`guest network: restore → prompt, ${runs} runs each, alternating --net-host and none`);
  const withNet: number[] = [],
    without: number[] = [];
  for (let i = 0; i < runs; i++) {
    without.push((await warmRun(plain, paths)).spawnToPrompt);
    withNet.push((await warmRun(net, paths)).spawnToPrompt);
    log(`  run ${i + 1}: ${withNet[i]?.toFixed(0)} ms with --net-host, ${without[i]?.toFixed(0)} ms without`);
  }
  const s = (xs: number[]): Summary => summarize(xs.map((x) => x / 1000));
  rows.push({
    figure: 'QEMU spawn → shell prompt (warm, --net-host)',
    unit: 's',
    value: s(withNet),
    baseline: { name: 'no network', value: s(without) },
  });

  const mb = 32;
  log(`guest network: ${mb} MB each way through the NAT to a host 127.0.0.1 server, and over the bare channel`);
  const session = await VmSession.start({ config: net, paths, signal: AbortSignal.timeout(600_000) });
  let f: Awaited<ReturnType<typeof natFigures>>;
  try {
    f = await natFigures(session, mb);
  } finally {
    await session.close();
  }
  const one = (x: number): Summary => summarize([x]);
  rows.push({
    figure: 'NAT guest → host server (TCP, --net-host)',
    unit: 'MB/s',
    value: one(f.down),
    baseline: { name: 'bare channel', value: one(f.channelDown) },
  });
  rows.push({
    figure: 'NAT host server → guest (TCP, --net-host)',
    unit: 'MB/s',
    value: one(f.up),
    baseline: { name: 'bare channel', value: one(f.channelUp) },
  });
}
