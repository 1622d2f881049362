/**
 * `-p` for a throw-away VM: the listeners are bound before the VM boots (a port in use ends the command
 * with 65 before anything starts) and closed when the command ends, whatever way it ends. A SIGKILL takes
 * them with the process.
 */
import { PortPublisher } from '../ports/publisher.js';
import type { PublishedPort } from '../ports/spec.js';
import type { VmSession } from '../session.js';
import { recordPorts } from '../store/vm-record.js';

export async function withPublishedPorts<T>(
  ports: readonly PublishedPort[],
  log: (line: string) => void,
  body: (publisher: PortPublisher) => Promise<T>,
): Promise<T> {
  const publisher = await PortPublisher.bind(ports, log);
  try {
    return await body(publisher);
  } finally {
    await publisher.close();
  }
}

/** The VM is up: forward over its SSH connection, and let `ps` show the ports. */
export function publishInto(publisher: PortPublisher, session: VmSession): void {
  if (!session.ssh) return;
  publisher.attach(session.ssh);
  const ports = publisher.list();
  if (ports.length) recordPorts(session.dir.path, ports);
}
