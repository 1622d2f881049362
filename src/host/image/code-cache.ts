/**
 * The agent's V8 code cache, made at image build (shared/agent-start.ts): the guest runs the Node binary
 * the image builder copies from the host (payload.ts), so the builder's own Node, with the agent's flags,
 * makes a cache the guest's V8 accepts. It loads the bundle from the payload (node-pty resolved there,
 * as in the guest) without serving, and writes the cache beside it.
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AGENT_BUNDLE,
  AGENT_CODE_CACHE,
  AGENT_LOADER,
  AGENT_NODE_FLAGS,
  CODE_CACHE_OUT_ENV,
} from '../../shared/agent-start.js';
import { ImageBuildError } from './errors.js';
import { projectFiles } from './project-files.js';

const TIMEOUT_MS = 120_000;

export async function makeAgentCodeCache(agentDir: string): Promise<void> {
  const out = join(agentDir, AGENT_CODE_CACHE);
  try {
    // The guest's own Node: in the single executable process.execPath is the executable, not a plain node.
    await promisify(execFile)(
      projectFiles().nodeRuntime,
      [...AGENT_NODE_FLAGS, join(agentDir, AGENT_LOADER), join(agentDir, AGENT_BUNDLE)],
      {
        env: { ...process.env, [CODE_CACHE_OUT_ENV]: out },
        timeout: TIMEOUT_MS,
      },
    );
    if (statSync(out).size === 0) throw new Error(`${out} is empty`);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new ImageBuildError(
      `making the agent's code cache failed: ${(err as Error).message}${stderr ? `: ${stderr.slice(-2000)}` : ''}`,
      { cause: err },
    );
  }
}
