/**
 * A config.toml that is a symbolic link to nothing (a dotfiles checkout not there yet, a moved target) used
 * to be read as "no config file": every setting silently back to its default. It is an error naming the
 * link and its target, exit 65, and `config set` does not replace the link with a new file.
 */
import { lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { said } from '../../helpers/run-tool.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'vg-cfglink-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('a dangling symbolic link as the config file', () => {
  it('config.toml -> a missing file: exit 65 naming the link and its target; config set leaves the link alone', async () => {
    mkdirSync(join(home, 'virtualghost'));
    const file = join(home, 'virtualghost', 'config.toml');
    const target = join(home, 'dotfiles', 'virtualghost.toml');
    symlinkSync(target, file);
    const env = { XDG_CONFIG_HOME: home };
    const show = await runCli(['config', 'show'], { env });
    expect(show.code, said(show)).toBe(65);
    expect(show.stderr).toContain(`${file} is a symbolic link to ${target}, which does not exist`);
    expect(show.stderr).toContain('remove the link to use the defaults');

    const set = await runCli(['config', 'set', 'vcpus', '2'], { env });
    expect(set.code, said(set)).toBe(65);
    expect(lstatSync(file).isSymbolicLink()).toBe(true);
    expect(readlinkSync(file)).toBe(target);
  });

  it('the virtualghost config dir -> a missing dir: the same', async () => {
    const link = join(home, 'virtualghost');
    symlinkSync(join(home, 'gone'), link);
    const r = await runCli(['config', 'get', 'vcpus'], { env: { XDG_CONFIG_HOME: home } });
    expect(r.code, said(r)).toBe(65);
    expect(r.stderr).toContain(`${link} is a symbolic link to ${join(home, 'gone')}, which does not exist`);
  });

  it('no file at all is still the defaults', async () => {
    const r = await runCli(['config', 'get', 'vcpus'], { env: { XDG_CONFIG_HOME: home } });
    expect(r.code, said(r)).toBe(0);
  });
});
