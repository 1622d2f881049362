/**
 * What `--image` / config `image` names: the default recipe, a cached image id, an OCI layout
 * (`oci:PATH`, optionally `oci:PATH@sha256:…`), a `docker save` archive (`docker-archive:FILE`), or a
 * registry reference (`docker.io/library/debian:12`, `127.0.0.1:5000/app:dev`, `name@sha256:…`).
 */
import { resolve } from 'node:path';
import { parseReference } from '../registry/reference.js';

export type ImageSource =
  | { kind: 'default' }
  | { kind: 'id'; id: string }
  | { kind: 'oci'; path: string; digest?: string }
  | { kind: 'docker-archive'; path: string }
  | { kind: 'registry'; ref: string };

const IMAGE_ID = /^[0-9a-f]{16}$/;
const DIGEST_SUFFIX = /@(sha256:[a-f0-9]{64})$/;

/** The registry client's own grammar (registry/reference.ts) decides what is a reference. */
function isRegistryReference(value: string): boolean {
  try {
    parseReference(value);
    return true;
  } catch {
    return false;
  }
}

export function parseImageSource(value: string): ImageSource | undefined {
  if (value === 'default') return { kind: 'default' };
  if (IMAGE_ID.test(value)) return { kind: 'id', id: value };
  if (value.startsWith('oci:')) {
    const rest = value.slice('oci:'.length);
    const m = DIGEST_SUFFIX.exec(rest);
    const path = m ? rest.slice(0, m.index) : rest;
    if (path === '') return undefined;
    return m ? { kind: 'oci', path, digest: m[1] as string } : { kind: 'oci', path };
  }
  if (value.startsWith('docker-archive:')) {
    const path = value.slice('docker-archive:'.length);
    return path === '' ? undefined : { kind: 'docker-archive', path };
  }
  return isRegistryReference(value) ? { kind: 'registry', ref: value } : undefined;
}

export const IMAGE_SOURCE_HELP =
  '"default", an image id from `virtualghost image ls`, oci:PATH (an OCI image layout), docker-archive:FILE.tar (docker save) or a registry reference';

/**
 * A path in oci:/docker-archive: made absolute against the current directory, at the command line: the
 * supervisor of a named VM runs elsewhere, and the image must be the one the user pointed at.
 */
export function absoluteImageSource(value: string): string {
  const s = parseImageSource(value);
  if (s?.kind === 'oci') return `oci:${resolve(s.path)}${s.digest ? `@${s.digest}` : ''}`;
  if (s?.kind === 'docker-archive') return `docker-archive:${resolve(s.path)}`;
  return value;
}
