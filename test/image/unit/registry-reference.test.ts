/** Image references read as docker reads them, and which registries may be spoken to over plain http. */
import { describe, expect, it } from 'vitest';
import { formatReference, parseReference } from '../../../src/host/image/registry/reference.js';
import { allowsPlainHttp } from '../../../src/host/image/registry/scheme.js';
import { parseChallenge } from '../../../src/host/image/registry/token.js';

const digest = `sha256:${'ab'.repeat(32)}`;

describe('parseReference', () => {
  it.each([
    ['debian', 'docker.io/library/debian:latest'],
    ['debian:12', 'docker.io/library/debian:12'],
    ['docker.io/library/debian:12', 'docker.io/library/debian:12'],
    ['index.docker.io/library/debian:12', 'docker.io/library/debian:12'],
    ['bitnami/redis:7.2', 'docker.io/bitnami/redis:7.2'],
    ['ghcr.io/org/app:tag', 'ghcr.io/org/app:tag'],
    ['127.0.0.1:5000/app:dev', '127.0.0.1:5000/app:dev'],
    ['localhost/app', 'localhost/app:latest'],
    ['[::1]:5000/a/b_c/d-e', '[::1]:5000/a/b_c/d-e:latest'],
    [`app@${digest}`, `docker.io/library/app@${digest}`],
    [`127.0.0.1:5000/app:dev@${digest}`, `127.0.0.1:5000/app:dev@${digest}`],
  ])('%s is %s', (text, full) => {
    expect(formatReference(parseReference(text))).toBe(full);
  });

  it.each([
    ['', 'empty'],
    ['Debian:12', 'lower-case'],
    ['app:', 'tag'],
    ['app@sha256:abc', 'digest'],
    ['a/../b', 'lower-case'],
    ['app:-x', 'tag'],
    ['bad_host:5000x/app', 'not a registry host'],
    ['a\u001b[31m', 'lower-case'],
  ])('%j is refused (exit 65), naming it', (text, why) => {
    expect(() => parseReference(text)).toThrow(expect.objectContaining({ code: 'REGISTRY_REFERENCE_INVALID' }));
    expect(() => parseReference(text)).toThrow(why);
    if (text.includes('\u001b')) expect(() => parseReference(text)).not.toThrow('\u001b');
  });
});

describe('plain http', () => {
  it('is for loopback hosts and the listed insecure registries only', () => {
    for (const h of ['localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000'])
      expect(allowsPlainHttp(h, []), h).toBe(true);
    for (const h of ['registry.lan:5000', '10.0.0.1:5000', '127.0.0.1.example.com', 'ghcr.io'])
      expect(allowsPlainHttp(h, []), h).toBe(false);
    expect(allowsPlainHttp('registry.lan:5000', ['registry.lan:5000'])).toBe(true);
    expect(allowsPlainHttp('registry.lan:5000', ['registry.lan'])).toBe(true);
    expect(allowsPlainHttp('registry.lan:5000', ['registry.lan:5001'])).toBe(false);
  });
});

describe('parseChallenge', () => {
  it("reads Docker Hub's bearer challenge", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/debian:pull',
      },
    });
    expect(parseChallenge('Basic realm="x"')).toEqual({ scheme: 'basic', params: { realm: 'x' } });
  });
});
