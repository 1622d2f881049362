/**
 * Image references as docker writes them: `[registry/]repository[:tag][@digest]`. A first component with
 * a `.` or `:`, or `localhost`, is a registry host; otherwise the image is on Docker Hub, where a one-part
 * name is an official image (`debian:12` is `docker.io/library/debian:12`). Validated here with the
 * distribution spec's grammar, so that nothing else has to worry about what ends up in a URL.
 */
import { RegistryReferenceInvalidError } from './errors.js';
import { escapeControl } from '../../../shared/escape-control.js';

export interface ImageReference {
  /** Registry host as written (`docker.io`, `ghcr.io`, `127.0.0.1:5000`, `[::1]:5000`). */
  registry: string;
  /** Repository path: `library/debian`, `org/app`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` (or sha512): the manifest is checked against it. */
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
/** Docker Hub's API is not on docker.io itself. */
const DOCKER_HUB_API = 'registry-1.docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const DIGEST = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/** `host[:port]` (IPv6 in brackets), as in a reference's first part and image.insecure_registries. */
export function isRegistryHost(text: string): boolean {
  return HOST.test(text);
}

export function parseReference(text: string): ImageReference {
  const bad = (why: string): RegistryReferenceInvalidError =>
    new RegistryReferenceInvalidError(
      `image reference ${JSON.stringify(escapeControl(text))} is not valid: ${why} (expected [REGISTRY/]NAME[:TAG][@sha256:DIGEST], e.g. debian:12 or 127.0.0.1:5000/app:dev)`,
    );
  if (text.length === 0 || text.length > 1024) throw bad('empty or too long');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`${JSON.stringify(escapeControl(digest))} is not a sha256:… digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`tag ${JSON.stringify(escapeControl(tag))} is not a valid tag`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first === 'index.docker.io' ? DOCKER_HUB : first;
    parts.shift();
    if (!HOST.test(registry)) throw bad(`${JSON.stringify(escapeControl(registry))} is not a registry host`);
  }
  if (parts.length === 0 || !parts.every((p) => COMPONENT.test(p)))
    throw bad('the name must be lower-case letters, digits and separators (. _ __ -) between slashes');
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (repository.length > 255) throw bad('the name is longer than 255 characters');
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The full form, `registry/repository[:tag][@digest]`, for messages and the layout's ref name. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The host the API is reached at (`host[:port]`, brackets kept for IPv6). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/** The host name without port or brackets: what loopback and insecure_registries checks look at. */
export function hostName(registry: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(registry);
  if (v6) return v6[1] ?? '';
  return registry.replace(/:\d+$/, '');
}
