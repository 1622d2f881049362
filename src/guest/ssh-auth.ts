/** Public-key-only authentication against the one key the host injected for this session. */
import { timingSafeEqual } from 'node:crypto';
import ssh2 from 'ssh2';
import type { AuthContext } from 'ssh2';

export function authenticate(ctx: AuthContext, allowedOpenSsh: string | undefined): void {
  if (ctx.method !== 'publickey' || allowedOpenSsh === undefined) {
    ctx.reject(['publickey']);
    return;
  }
  const allowed = ssh2.utils.parseKey(allowedOpenSsh);
  if (allowed instanceof Error || Array.isArray(allowed)) {
    ctx.reject(['publickey']);
    return;
  }
  const want = allowed.getPublicSSH();
  const got = ctx.key.data;
  if (ctx.key.algo !== allowed.type || got.length !== want.length || !timingSafeEqual(got, want)) {
    ctx.reject(['publickey']);
    return;
  }
  // No signature yet = the client asks "would you take this key?"; accepting that is not a login.
  if (ctx.signature === undefined) {
    ctx.accept();
    return;
  }
  if (ctx.blob !== undefined && allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) ctx.accept();
  else ctx.reject(['publickey']);
}
