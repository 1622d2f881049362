import type { VmExit } from './driver.js';

/** How a VMM process ended, for messages: "exit status 1" or "killed by SIGKILL". */
export function describeExit(e: VmExit): string {
  return e.signal ? `killed by ${e.signal}` : `exit status ${e.code}`;
}
