/**
 * How the guest starts ghostly-agent (#18, a faster cold boot): init.sh runs Node on a small loader,
 * which compiles the agent's bundle with the V8 code cache made at image build and then runs it. Under
 * TCG, parsing and compiling the ~0.8 MB bundle was seconds of every cold boot; with the cache V8 reads
 * the compiled bytecode instead. The image builder, init.sh (through its placeholders) and the loader
 * take the names and flags from here, since a cache made with other flags would be rejected.
 */

/** Where the agent lives in the guest. */
export const AGENT_DIR = '/opt/ghostly';
export const AGENT_BUNDLE = 'ghostly-agent.cjs';
export const AGENT_LOADER = 'ghostly-agent-loader.cjs';
/** The code cache beside the bundle: V8 checks it against the source, its own version and these flags. */
export const AGENT_CODE_CACHE = 'ghostly-agent.v8cache';

/**
 * Node's flags for the agent. A restored clone runs every code path afresh under TCG, so the agent keeps
 * what its template compiled: no bytecode flushing (V8 would drop the bytecode of functions idle for a
 * while, and a clone would compile them again), and `gc`, so the template's agent collects garbage just
 * before the snapshot.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--no-flush-bytecode', '--expose-gc'];

/** Set (to the cache's path) when the image builder runs the loader to make the code cache: load, do not serve. */
export const CODE_CACHE_OUT_ENV = 'GHOSTLY_CODE_CACHE_OUT';

/** The loader's console line, read by the bench's cold-boot step table: guest uptimes in seconds. */
export const AGENT_LOAD_LINE = 'ghostly-agent: loaded';
