/**
 * `port NAME [--json]` lists a running VM's published ports (any VM: they are in its vm.json);
 * `port NAME add SPEC` and `port NAME rm HOST_PORT` change a named VM's while it runs, through its
 * supervisor, which holds the listeners. A throw-away run's ports are its command's `-p`, fixed.
 */
import { parsePortSpec, formatPort, type PublishedPort } from '../ports/spec.js';
import { ConfigInvalidError } from '../config/errors.js';
import { validateVmName } from '../store/instance-dir.js';
import { ghostPaths } from '../store/paths.js';
import { request } from '../supervisor/client.js';
import { SupervisorStateError } from '../supervisor/errors.js';
import type { PortsReply } from '../supervisor/protocol.js';
import { requireVm, supervisorSocket } from '../supervisor/registry.js';
import { notice } from './context.js';
import { CliUsageError } from './errors.js';

export async function portCommand(
  name: string,
  action: 'add' | 'rm' | undefined,
  value: string | undefined,
  opts: { json?: boolean },
): Promise<number> {
  const entry = requireVm(ghostPaths(), validateVmName(name));
  if (entry.state !== 'running')
    throw new SupervisorStateError(`VM ${name} is ${entry.state}, not running: it has no published ports`);
  if (action === undefined) {
    if (value !== undefined)
      throw new CliUsageError(
        `port ${name} ${value}: expected \`port ${name}\`, \`port ${name} add SPEC\` or \`port ${name} rm HOST_PORT\``,
      );
    print(entry.record?.ports ?? [], opts.json ?? false);
    return 0;
  }
  if (value === undefined)
    throw new CliUsageError(
      action === 'add'
        ? `port ${name} add needs a SPEC: [HOST_IP:]HOST_PORT:GUEST_PORT, e.g. 8080:80`
        : `port ${name} rm needs a HOST_PORT`,
    );
  if (!entry.supervised || !entry.dir)
    throw new SupervisorStateError(
      `VM ${name} is a throw-away run: its ports are the -p of the command that started it`,
    );
  const socket = supervisorSocket(entry.dir);
  if (action === 'add') {
    const port = parsePortSpec(value);
    const reply = await request<PortsReply & Record<string, unknown>>(socket, { op: 'port-add', port });
    notice(`published ${formatPort(port)} on ${name}`);
    if (opts.json) print(reply.ports, true);
    return 0;
  }
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535)
    throw new ConfigInvalidError(`port ${name} rm ${JSON.stringify(value)}: HOST_PORT must be a port number (1-65535)`);
  const reply = await request<PortsReply & Record<string, unknown>>(socket, { op: 'port-rm', hostPort: Number(value) });
  notice(`host port ${value} of ${name} is no longer published`);
  if (opts.json) print(reply.ports, true);
  return 0;
}

function print(ports: readonly PublishedPort[], json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(ports, null, 2)}\n`);
  else for (const p of ports) process.stdout.write(`${formatPort(p)}\n`);
}
