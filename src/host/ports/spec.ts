/**
 * Published ports: `-p [HOST_IP:]HOST_PORT:GUEST_PORT` (an IPv6 HOST_IP in brackets: `[::1]:8080:80`).
 * The host side binds 127.0.0.1 unless an address is given: unlike docker's 0.0.0.0, a published port is
 * reachable only from this machine until the user names a wider address on purpose.
 */
import { isIPv4, isIPv6 } from 'node:net';
import * as v from 'valibot';
import { ConfigInvalidError } from '../config/errors.js';

export const DEFAULT_HOST_IP = '127.0.0.1';

const Port = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535));
/** How a published port travels (supervisor protocol) and is stored (vm.json). */
export const PublishedPortSchema = v.object({
  hostIp: v.pipe(
    v.string(),
    v.check((s) => isIPv4(s) || isIPv6(s), 'an IP address'),
  ),
  hostPort: Port,
  guestPort: Port,
});
export type PublishedPort = v.InferOutput<typeof PublishedPortSchema>;

function port(text: string, what: string, spec: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535))
    throw new ConfigInvalidError(
      `-p ${JSON.stringify(spec)}: ${what} ${JSON.stringify(text)} is not a port number (1-65535); expected [HOST_IP:]HOST_PORT:GUEST_PORT, e.g. 8080:80`,
    );
  return n;
}

export function parsePortSpec(spec: string): PublishedPort {
  let hostIp = DEFAULT_HOST_IP;
  let rest = spec;
  const bracket = /^\[([^\]]*)\]:(.*)$/.exec(spec);
  if (bracket) {
    hostIp = bracket[1] ?? '';
    rest = bracket[2] ?? '';
    if (!isIPv6(hostIp))
      throw new ConfigInvalidError(`-p ${JSON.stringify(spec)}: ${JSON.stringify(hostIp)} is not an IPv6 address`);
  }
  const parts = rest.split(':');
  if (!bracket && parts.length === 3) {
    hostIp = parts.shift() ?? '';
    if (!isIPv4(hostIp))
      throw new ConfigInvalidError(
        `-p ${JSON.stringify(spec)}: ${JSON.stringify(hostIp)} is not an IPv4 address (an IPv6 one goes in brackets: [::1]:8080:80)`,
      );
  }
  if (parts.length !== 2)
    throw new ConfigInvalidError(
      `-p ${JSON.stringify(spec)}: expected [HOST_IP:]HOST_PORT:GUEST_PORT, e.g. 8080:80 or 0.0.0.0:8080:80`,
    );
  return {
    hostIp,
    hostPort: port(parts[0] ?? '', 'HOST_PORT', spec),
    guestPort: port(parts[1] ?? '', 'GUEST_PORT', spec),
  };
}

/** Parses every -p; the same host address and port twice is refused. */
export function parsePortSpecs(specs: readonly string[]): PublishedPort[] {
  const out: PublishedPort[] = [];
  for (const spec of specs) {
    const p = parsePortSpec(spec);
    const clash = out.find((o) => sameHostSide(o, p));
    if (clash) throw new ConfigInvalidError(`-p ${JSON.stringify(spec)}: ${hostSide(p)} is published twice`);
    out.push(p);
  }
  return out;
}

export function sameHostSide(a: PublishedPort, b: PublishedPort): boolean {
  return a.hostPort === b.hostPort && a.hostIp === b.hostIp;
}

/** `127.0.0.1:8080`, `[::1]:8080`. */
export function hostSide(p: PublishedPort): string {
  return `${p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp}:${p.hostPort}`;
}

/** `127.0.0.1:8080->80`, as `ps`, `port` and the status line show it. */
export function formatPort(p: PublishedPort): string {
  return `${hostSide(p)}->${p.guestPort}`;
}

/** The status line's short form: the address only when it is not the default one (`8080->80`, `0.0.0.0:8080->80`). */
export function shortPort(p: PublishedPort): string {
  return p.hostIp === DEFAULT_HOST_IP ? `${p.hostPort}->${p.guestPort}` : formatPort(p);
}

/** Entries of a state file (vm.json) that are well-formed published ports; anything else is dropped. */
export function validPorts(value: unknown): PublishedPort[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((p: unknown) => {
    const r = v.safeParse(PublishedPortSchema, p);
    return r.success ? [r.output] : [];
  });
}
