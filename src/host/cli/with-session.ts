/**
 * Boots a session for a command and guarantees teardown on every exit path: normal return, error,
 * SIGINT/SIGTERM/SIGHUP (then exit 128+N). The VMM also dies on its own if we are SIGKILLed
 * (parent-death signal), and `clean` removes what such a death leaves on disk.
 */
import { constants } from 'node:os';
import { VmSession } from '../session.js';
import { autostartPool } from '../pool/launch.js';
import type { TraceMark } from '../trace.js';
import type { CliContext } from './context.js';
import { notice } from './context.js';
import { isVerbose } from './output.js';
import { buildProgressPrinter } from './progress.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export async function withSession<T>(
  ctx: CliContext,
  opts: { name?: string; quiet?: boolean; cold?: boolean; pool?: boolean },
  body: (s: VmSession, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const abort = new AbortController();
  let session: VmSession | undefined;
  let starting: Promise<VmSession> | undefined;
  let gotSignal: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (gotSignal) return;
    gotSignal = sig;
    abort.abort(new Error(`interrupted by ${sig}`));
    // A session still starting cleans up after itself once the abort reaches it; then we close and go.
    void (async () => {
      await starting?.catch(() => undefined);
      await session?.close();
    })().finally(() => process.exit(128 + (constants.signals[sig] ?? 1)));
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    starting = VmSession.start({
      config: ctx.config,
      paths: ctx.paths,
      signal: abort.signal,
      ...(opts.name ? { name: opts.name } : {}),
      cold: opts.cold ?? false,
      pool: opts.pool ?? true,
      onNotice: notice,
      ...(isVerbose()
        ? {
            onPhase: (p: string) => notice(`[${(performance.now() / 1000).toFixed(3)}s] phase ${p}`),
            onMark: (m: TraceMark) => notice(`[${(m.atMs / 1000).toFixed(3)}s]   ${m.label}`),
          }
        : {}),
      onBuildProgress: buildProgressPrinter(),
    });
    session = await starting;
    // pool.autostart: the next run finds a warm VM; this one never waits for that.
    if (ctx.config.values['pool.autostart'] && opts.pool !== false && !opts.cold) autostartPool(ctx.paths);
    return await body(session, abort.signal);
  } finally {
    await session?.close();
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  }
}
