/**
 * A small "shown" throughput figure on a real VM: `virtualghost run` (the TUI) vs tmux running
 * `virtualghost run --raw`, same outer terminal and markers as shown.ts. The guest makes the mixed
 * output itself (awk, before the clock starts), so both sides show the same bytes. Under TCG this
 * measures the guest: its PTY → agent → SSH path shows ~0.1–0.2 MB/s (exec's SSH path ~3 MB/s),
 * which is why the main figure uses a local program.
 */
import { fileURLToPath } from 'node:url';
import { openOuter, timeShown } from './shown.js';

const BIN = fileURLToPath(new URL('../../../bin/virtualghost.js', import.meta.url));

/**
 * Typed at the guest prompt. Deterministic lines like mixedOutput's: words, 16/256/RGB SGR, wide
 * characters (日本語 as octal UTF-8). The markers are assembled by printf so that the echoed command
 * line never contains them.
 */
function guestCommand(bytes: number): string {
  const awk =
    'BEGIN{srand(1);split("lorem ipsum dolor sit amet src/host/tui/render.ts 12345 ok \\346\\227\\245\\346\\234\\254\\350\\252\\236 ERROR",w," ");' +
    'n=0;while(n<B){l="";k=4+int(rand()*12);for(i=0;i<k;i++){r=int(rand()*10);x=w[1+int(rand()*10)];' +
    'if(r==0)s=sprintf("\\033[3%dm%s\\033[0m ",int(rand()*8),x);' +
    'else if(r==1)s=sprintf("\\033[38;5;%dm%s\\033[39m ",int(rand()*256),x);' +
    'else if(r==2)s=sprintf("\\033[1;38;2;%d;%d;%dm%s\\033[0m ",int(rand()*256),int(rand()*256),int(rand()*256),x);' +
    'else s=x " ";l=l s}l=l "\\r\\n";printf "%s",l;n+=length(l)}}';
  return `awk -v B=${bytes} '${awk}' > /tmp/mixed.txt; M=qzVGX; printf '#%sstartXqz#\\r\\n' $M; read go; cat /tmp/mixed.txt; printf '\\r\\n#%sendXqz#\\r\\n' $M\r`;
}

/** MB/s for `megabytes` of guest output shown through the TUI or through tmux + `run --raw`. */
export async function vmShownMBps(via: 'tui' | 'tmux', megabytes: number, scrollback: number): Promise<number> {
  const bytes = Math.round(megabytes * (1 << 20));
  const argv = [process.execPath, BIN, 'run', ...(via === 'tmux' ? ['--raw'] : [])];
  const outer = openOuter(via, argv, { cols: 160, rows: 48, scrollback });
  try {
    const seconds = await timeShown(outer, {
      label: `shown throughput on a VM (${via})`,
      budgetMs: 300_000,
      first: { ready: 'root@ghost', input: guestCommand(bytes) },
    });
    // Leave the way a user does: the VM goes with the shell.
    outer.term.write('exit\r');
    const gone = await Promise.race([
      outer.exited.then(() => true),
      new Promise<boolean>((r) =>
        setTimeout(() => {
          r(false);
        }, 30_000),
      ),
    ]);
    if (!gone) throw new Error(`shown throughput on a VM (${via}): the shell did not exit`);
    return bytes / 1e6 / seconds;
  } finally {
    await outer.close();
  }
}
