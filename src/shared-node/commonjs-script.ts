/**
 * Runs a compiled CommonJS module wrapper (`new Script(Module.wrap(source))`) as Node's loader would, and
 * returns its exports. Both loaders that compile a bundle from a V8 code cache use it: the guest agent's
 * (guest/agent-loader.ts) and the host CLI's (host/cli/bundle-loader.ts).
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Script } from 'node:vm';

type Wrapper = (
  exports: object,
  require: NodeJS.Require,
  module: { exports: object },
  filename: string,
  dirname: string,
) => void;

export function runCommonJs<T extends object>(script: Script, filename: string): T {
  const wrapper = script.runInThisContext() as Wrapper;
  const mod = { exports: {} as T };
  wrapper.call(mod.exports, mod.exports, createRequire(filename), mod, filename, dirname(filename));
  return mod.exports;
}
