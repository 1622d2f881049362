/**
 * The agent's entry point in the guest (bundled on its own as ghostly-agent-loader.cjs): compiles the
 * agent bundle with the V8 code cache the image builder made (shared/agent-start.ts) and runs it as the
 * CommonJS module it is. Says on the console how long each step took, as guest uptimes, and whether V8
 * took the cache; a missing or rejected cache only costs the compile time it would have saved.
 *
 * With GHOSTLY_CODE_CACHE_OUT set (the image build, on the host, with the same Node binary and flags):
 * the bundle loads but does not serve (main.ts), and the cache, made after that run so that it holds
 * every function the load compiled, is written there. (Run so in a guest, beside a copy of the bundle
 * with and without the cache, it times the load both ways without a second agent serving.)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { runCommonJs } from '../shared-node/commonjs-script.js';
import {
  AGENT_BUNDLE,
  AGENT_CODE_CACHE,
  AGENT_DIR,
  AGENT_LOAD_LINE,
  CODE_CACHE_OUT_ENV,
} from '../shared/agent-start.js';

// ms since this process began (process.uptime: `performance` would load perf_hooks, ~0.5 s under TCG)
const now = (): number => process.uptime() * 1000;
const started = now();
// The bundle's path is our argument, so the agent's command line still names ghostly-agent.cjs (pgrep -f).
const bundle = process.argv[2] ?? join(AGENT_DIR, AGENT_BUNDLE);
const dir = dirname(bundle);
const cacheOut = process.env[CODE_CACHE_OUT_ENV];

const uptime = (): number => {
  try {
    return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
};
const startUptime = uptime() - started / 1000;

const source = readFileSync(bundle, 'utf8');
let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(join(dir, AGENT_CODE_CACHE));
} catch {
  // no cache: compile from source
}
const script = new Script(Module.wrap(source), { filename: bundle, ...(cachedData ? { cachedData } : {}) });
const compiled = now();
const cache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
runCommonJs(script, bundle);
const ran = now();

if (cacheOut) writeFileSync(cacheOut, script.createCachedData());
const at = (ms: number): string => (startUptime + ms / 1000).toFixed(3);
process.stderr.write(
  `${AGENT_LOAD_LINE}: node-start=${startUptime.toFixed(3)} loader=${at(started)} compiled=${at(compiled)} ran=${at(ran)} code-cache=${cache}\n`,
);
