/**
 * Plain http only where docker allows it: loopback registries (localhost, 127.0.0.0/8, ::1) and those the
 * user listed in image.insecure_registries. Everything else, token realms and redirects included, is https.
 */
import { hostName } from './reference.js';

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `hostPort` is `host[:port]` (brackets around IPv6); an insecure entry matches it exactly or by host. */
export function allowsPlainHttp(hostPort: string, insecure: readonly string[]): boolean {
  const host = hostName(hostPort);
  return isLoopbackHost(host) || insecure.includes(hostPort) || insecure.includes(host);
}

export function registryScheme(hostPort: string, insecure: readonly string[]): 'http' | 'https' {
  return allowsPlainHttp(hostPort, insecure) ? 'http' : 'https';
}

/** A URL we may send a request (and credentials) to: https, or http to a host allowed plain http. */
export function urlAllowed(url: URL, insecure: readonly string[]): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && allowsPlainHttp(url.host, insecure);
}
