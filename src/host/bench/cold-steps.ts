/**
 * Where a cold boot's time goes, as the warm step table shows a restore's: the guest's own steps from
 * the agent loader's console line (guest uptime: the kernel and init up to Node's start, Node's bootstrap,
 * compiling the agent from its code cache, running its modules and main), then the host's start trace
 * from the backend's choice on (QEMU's start and the guest up to the control stream, the agent's hello,
 * the SSH key exchange and login, the prompt).
 */
import { AGENT_LOAD_LINE } from '../../shared/agent-start.js';
import type { VmSession } from '../session.js';

export type Steps = Array<[string, number]>;

/** The guest part, ms; empty if the console has no loader line (an image from before the loader). */
export function guestSteps(consoleText: string): Steps {
  const line = consoleText.split('\n').find((l) => l.includes(AGENT_LOAD_LINE));
  if (!line) return [];
  const at = (key: string): number => Number(new RegExp(`${key}=([\\d.]+)`).exec(line)?.[1]) * 1000;
  const cache = /code-cache=(\w+)/.exec(line)?.[1] ?? '?';
  return [
    ['guest: kernel + init → Node started', at('node-start')],
    ['guest: Node bootstrap → loader runs', at('loader') - at('node-start')],
    [`guest: agent compiled (code cache ${cache})`, at('compiled') - at('loader')],
    ['guest: agent modules + main ran', at('ran') - at('compiled')],
  ];
}

/** Guest steps, then each host trace mark after the backend's choice (ms since the previous mark). */
export async function coldSteps(session: VmSession): Promise<Steps> {
  const marks = session.trace.marks;
  // A cold boot's driver marks nothing of its own: its steps start where the session chose the backend.
  const from = Math.max(
    0,
    marks.findIndex((m) => m.label === 'backend chosen'),
  );
  const host: Steps = marks
    .slice(from + 1)
    .map((m, i) => [`host: ${m.label}`, m.atMs - (marks[from + i]?.atMs ?? m.atMs)]);
  return [...guestSteps(await session.driver.consoleTail(400)), ...host];
}
