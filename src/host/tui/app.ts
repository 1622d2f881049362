/**
 * Ghostly Term's event loop: input → parser → guest or commands; guest output → tabs → frames.
 * One instance per runTui call. Everything that can end the app funnels into `finish()`, which
 * restores the terminal exactly once.
 */
import { StringDecoder } from 'node:string_decoder';
import { base64Bytes, ClipboardGate, osc52 } from './clipboard.js';
import { CopyMode } from './copymode.js';
import { Frame, LinkTable } from './frame.js';
import { drawHelp } from './help.js';
import { InputParser, type Command, type GuestInputState, type InputEvent } from './input.js';
import { parsePrefixKey, prefixLabel, type Key } from './keys.js';
import { Renderer } from './render.js';
import { FrameScheduler } from './scheduler.js';
import { drawStatus, type StatusModel } from './status.js';
import { quitCheck, quitQuestion } from './quit-check.js';
import { exitCode, Tab } from './tab.js';
import { installSafety, OuterTerminal, type SafetySignal } from './terminal.js';
import {
  QUIET_AFTER_INPUT_END_MS,
  type ShellStream,
  type TuiBackend,
  type TuiIo,
  type TuiOptions,
  type TuiResult,
} from './types.js';
import { errorMessage } from '../../shared/errors.js';

/** A partial escape sequence at the end of a read is held this long before it counts as typed keys. */
const ESCAPE_HOLD_MS = 20;
/** Guest synchronized output (DEC 2026) may hold frames back at most this long. */
const SYNC_HOLD_MS = 150;
const SIGNAL_CODES: Record<SafetySignal, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/** `processes`: how many would die with the VM, or why that could not be checked. */
type Overlay =
  | { kind: 'none' }
  | { kind: 'help' }
  | { kind: 'confirm-quit'; processes: number | { unknown: string } }
  | { kind: 'copy'; copy: CopyMode };

export class TuiApp {
  private readonly term: OuterTerminal;
  private readonly links = new LinkTable();
  private readonly renderer: Renderer;
  private readonly frame: Frame;
  private readonly scheduler: FrameScheduler;
  private readonly parser: InputParser;
  private readonly clipboard: ClipboardGate;
  private readonly prefix: string;
  private readonly decoder = new StringDecoder('utf8');
  private tabs: Tab[] = [];
  private active = 0;
  private overlay: Overlay = { kind: 'none' };
  private message: { text: string; until: number } | undefined;
  private escapeTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private syncSince: number | undefined;
  /** The tab the user just typed into, until its next output: that output (the echo) is drawn at once. */
  private echoAwaited: Tab | undefined;
  /** Set when input did something the TUI itself shows (prefix indicator, overlay, command). */
  private inputShown = false;
  private uninstallSafety: (() => void) | undefined;
  private inputEnded = false;
  private quietTimer: NodeJS.Timeout | undefined;
  private finished = false;
  private resolveDone: (r: TuiResult) => void = () => {};
  readonly done: Promise<TuiResult>;

  constructor(
    private readonly backend: TuiBackend,
    private readonly io: TuiIo,
    private readonly opts: TuiOptions,
  ) {
    this.prefix = parsePrefixKey(opts.prefixKey);
    this.term = new OuterTerminal(io);
    this.renderer = new Renderer(this.links);
    const { cols, rows } = this.term.size();
    this.frame = new Frame(cols, rows);
    this.scheduler = new FrameScheduler(
      this.guard(() => {
        this.draw();
      }),
    );
    this.parser = new InputParser(
      this.prefix,
      () => this.guestInputState(),
      (ev) => {
        this.onInput(ev);
      },
    );
    this.clipboard = new ClipboardGate(opts.clipboard);
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  async start(): Promise<void> {
    this.uninstallSafety = installSafety(
      this.term,
      (sig) => {
        this.finish({ exitCode: SIGNAL_CODES[sig], reason: 'signal' });
      },
      () => {
        this.onContinue();
      },
    );
    this.term.enter();
    try {
      const { cols, rows } = this.layout();
      const existing = (await this.backend.existingShells?.({ cols, rows })) ?? [];
      for (const shell of existing) this.addTab(shell, { cols, rows });
      if (existing.length) this.select(0);
      else await this.openTab();
    } catch (err) {
      await this.teardown();
      throw err;
    }
    this.io.input.on('data', this.onDataGuarded);
    this.io.input.on('end', this.onInputEnd);
    if (this.io.input.readableEnded) this.onInputEnd(); // /dev/null ends while the first shells open
    this.io.output.on('resize', this.onResizeGuarded);
    this.io.output.on('drain', this.onDrain);
    this.statusTimer = setInterval(() => {
      this.scheduler.request();
    }, 1000);
    this.statusTimer.unref();
    this.scheduler.request();
  }

  // ---- geometry ----------------------------------------------------------------------------

  /** Guest area and status row for the current terminal size (no status line below 2 rows). */
  private layout(): { cols: number; rows: number; top: number; statusRow: number } {
    const { cols, rows } = this.term.size();
    if (rows < 2) return { cols, rows: Math.max(1, rows), top: 0, statusRow: -1 };
    return this.opts.statusPosition === 'top'
      ? { cols, rows: rows - 1, top: 1, statusRow: 0 }
      : { cols, rows: rows - 1, top: 0, statusRow: rows - 1 };
  }

  /** A bug in an event handler ends the TUI with the terminal restored, instead of wedging it. */
  private guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      try {
        fn(...args);
      } catch (error) {
        this.finish({ exitCode: 70, reason: 'error', error });
      }
    };
  }

  private readonly onResize = (): void => {
    const { cols, rows } = this.layout();
    for (const tab of this.tabs) tab.resize(cols, rows);
    if (this.overlay.kind === 'copy') this.overlay.copy.setRows(rows);
    this.renderer.invalidate();
    this.scheduler.request();
  };

  private onContinue(): void {
    this.term.reenter();
    this.onResize();
  }

  // ---- tabs --------------------------------------------------------------------------------

  private async openTab(): Promise<void> {
    const { cols, rows } = this.layout();
    const shell = await this.backend.openShell({ cols, rows });
    if (this.finished) {
      shell.close();
      return;
    }
    this.addTab(shell, { cols, rows });
  }

  /** `opened`: the size the shell was opened at (the terminal may have changed since). */
  private addTab(shell: ShellStream, opened: { cols: number; rows: number }): void {
    const { cols, rows } = opened;
    const tab = new Tab(shell, cols, rows, this.opts.scrollback);
    // The terminal may have been resized while the shell was opening.
    const now = this.layout();
    tab.resize(now.cols, now.rows);
    tab.screen.onChange(() => {
      if (this.inputEnded) this.detachWhenQuiet();
      if (tab !== this.current) return;
      const echo = this.echoAwaited === tab;
      this.echoAwaited = undefined;
      this.scheduler.request(echo);
    });
    tab.screen.onBell(
      this.guard(() => {
        this.onBell(tab);
      }),
    );
    tab.screen.onClipboard(
      this.guard((req) => {
        const verdict = this.clipboard.request(req, Date.now());
        if (verdict === 'forward') this.term.write(osc52(req));
        if (verdict === 'ask') this.scheduler.request();
      }),
    );
    this.tabs.push(tab);
    this.select(this.tabs.length - 1);
    const exited = this.guard((code: number) => {
      this.onTabExit(tab, code);
    });
    void shell.exited.then(
      (result) => {
        exited(exitCode(result));
      },
      () => {
        exited(1);
      },
    );
  }

  private get current(): Tab | undefined {
    return this.tabs[this.active];
  }

  private select(index: number): void {
    if (index < 0 || index >= this.tabs.length) return;
    this.closeOverlay();
    this.active = index;
    const tab = this.tabs[index];
    if (tab) tab.bell = false;
    this.scheduler.request();
  }

  private onTabExit(tab: Tab, code: number): void {
    const index = this.tabs.indexOf(tab);
    if (index < 0) return;
    this.tabs.splice(index, 1);
    tab.dispose();
    if (this.tabs.length === 0) {
      this.finish({ exitCode: code, reason: 'shell-exited' });
      return;
    }
    if (index === this.active) this.closeOverlay();
    this.active = Math.min(
      index <= this.active && this.active > 0 ? this.active - 1 : this.active,
      this.tabs.length - 1,
    );
    this.renderer.invalidate();
    this.scheduler.request();
  }

  private onBell(tab: Tab): void {
    if (tab === this.current) this.term.write('\x07');
    else {
      tab.bell = true;
      this.scheduler.request();
    }
  }

  // ---- input -------------------------------------------------------------------------------

  private readonly onData = (chunk: Buffer | string): void => {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const inPrefix = this.parser.inPrefix;
    this.inputShown = false;
    this.parser.feed(text);
    if (this.escapeTimer) clearTimeout(this.escapeTimer);
    this.escapeTimer = this.parser.hasPending
      ? setTimeout(
          this.guard(() => {
            this.parser.flush();
          }),
          ESCAPE_HOLD_MS,
        )
      : undefined;
    // Keys that went to the guest change nothing on screen until it answers; a frame drawn now would
    // only make the echo wait for the frame pacing (and cost a paint) — so draw only for our own UI.
    if (this.inputShown || this.parser.inPrefix !== inPrefix) this.scheduler.request();
  };

  private readonly onDataGuarded = this.guard(this.onData);

  /**
   * Input at its end (stdin from /dev/null or a finished pipe, never a terminal): no key can come any more.
   * A VM that keeps running is detached from, as docker attach does; a throw-away VM's shells stay as they are.
   */
  private readonly onInputEnd = (): void => {
    if (!this.backend.detachable || this.inputEnded) return;
    this.inputEnded = true;
    this.detachWhenQuiet();
  };

  /** After the input's end: detach once no tab has shown output for a moment (piped input answered). */
  private detachWhenQuiet(): void {
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(
      this.guard(() => {
        this.finish({ exitCode: 0, reason: 'detached', inputEnded: true });
      }),
      QUIET_AFTER_INPUT_END_MS,
    );
  }
  private readonly onResizeGuarded = this.guard(this.onResize);

  private guestInputState(): GuestInputState {
    const { cols, rows, top } = this.layout();
    const m = this.current?.screen.modes;
    return {
      bracketedPaste: m?.bracketedPaste ?? false,
      focus: m?.focus ?? false,
      mouse: { tracking: m?.mouse ?? 'none', encoding: m?.mouseEncoding ?? 'DEFAULT', top, cols, rows },
    };
  }

  private onInput(ev: InputEvent): void {
    if (ev.type === 'guest') {
      const tab = this.current;
      if (tab === undefined) return;
      this.echoAwaited = tab;
      tab.input(ev.data);
      return;
    }
    this.inputShown = true;
    if (ev.type === 'command') this.command(ev.command);
    else for (const key of ev.keys) this.modalKey(key);
  }

  private command(cmd: Command): void {
    switch (cmd.kind) {
      case 'help':
        this.setOverlay({ kind: 'help' });
        break;
      case 'quit':
        void this.quit();
        break;
      case 'detach':
        if (this.backend.detachable) this.finish({ exitCode: 0, reason: 'detached' });
        else this.say('this VM is throw-away: nothing to detach from (start it with a name to detach)');
        break;
      case 'new-tab':
        this.openTab().catch((err: unknown) => {
          this.say(`new tab failed: ${errorMessage(err)}`);
        });
        break;
      case 'next-tab':
        this.select((this.active + 1) % this.tabs.length);
        break;
      case 'prev-tab':
        this.select((this.active - 1 + this.tabs.length) % this.tabs.length);
        break;
      case 'select-tab':
        if (cmd.index < this.tabs.length) this.select(cmd.index);
        else this.say(`no tab ${cmd.index}`);
        break;
      case 'copy-mode': {
        const tab = this.current;
        if (!tab) break;
        const copy = new CopyMode(tab.screen, this.layout().rows);
        this.setOverlay({ kind: 'copy', copy });
        if (cmd.pageUp) copy.handleKey('PageUp');
        break;
      }
      case 'redraw':
        this.renderer.invalidate();
        break;
      case 'clipboard-allow': {
        const req = this.clipboard.allow(cmd.always, Date.now());
        if (req) {
          this.term.write(osc52(req));
          this.say(`copied ${base64Bytes(req.base64)} bytes to the clipboard`);
        } else if (cmd.always) this.say('clipboard writes allowed for this session');
        break;
      }
    }
    this.scheduler.request();
  }

  private async quit(): Promise<void> {
    const processes = await quitCheck(this.backend);
    if (this.finished) return;
    if (processes === 0) this.finish({ exitCode: 0, reason: 'quit' });
    else this.setOverlay({ kind: 'confirm-quit', processes });
  }

  private modalKey(key: Key): void {
    const overlay = this.overlay;
    if (overlay.kind === 'help') this.closeOverlay();
    else if (overlay.kind === 'confirm-quit') {
      if (key === 'y' || key === 'Y') this.finish({ exitCode: 0, reason: 'quit' });
      else this.closeOverlay();
    } else if (overlay.kind === 'copy') {
      const result = overlay.copy.handleKey(key);
      if (result.kind === 'exit') this.closeOverlay();
      if (result.kind === 'copy') {
        this.closeOverlay();
        this.copyToClipboard(result.text);
      }
    }
    this.scheduler.request();
  }

  private copyToClipboard(text: string): void {
    if (!this.clipboard.userCopyAllowed) {
      this.say('clipboard is disabled (clipboard = "deny")');
      return;
    }
    this.term.write(osc52({ selection: 'c', base64: Buffer.from(text, 'utf8').toString('base64') }));
    this.say(`copied ${Buffer.byteLength(text)} bytes`);
  }

  private setOverlay(overlay: Overlay): void {
    this.closeOverlay();
    this.overlay = overlay;
    this.parser.modal = overlay.kind !== 'none';
  }

  private closeOverlay(): void {
    if (this.overlay.kind === 'copy') this.overlay.copy.dispose();
    this.overlay = { kind: 'none' };
    this.parser.modal = false;
  }

  private say(text: string): void {
    this.message = { text, until: Date.now() + 3000 };
    this.scheduler.request();
  }

  // ---- drawing -----------------------------------------------------------------------------

  private draw(): void {
    if (this.finished) return;
    const tab = this.current;
    const { cols, rows, top, statusRow } = this.layout();
    const frameRows = statusRow < 0 ? rows : rows + 1;
    // A guest inside a synchronized update (DEC 2026) wants its frame shown whole: wait, briefly.
    if (tab?.screen.modes.synchronized && this.overlay.kind === 'none') {
      const now = performance.now();
      this.syncSince ??= now;
      if (now - this.syncSince < SYNC_HOLD_MS) {
        setTimeout(() => {
          this.scheduler.request();
        }, 10).unref();
        return;
      }
    }
    this.syncSince = undefined;
    if (this.frame.cols !== cols || this.frame.rows !== frameRows) this.frame.resize(cols, frameRows);
    if (tab) {
      // Resizes are applied in onResize; this guards against a tab created mid-resize.
      tab.resize(cols, rows);
      const overlay = this.overlay;
      if (overlay.kind === 'copy') {
        tab.screen.paint(this.frame, top, this.links, overlay.copy.viewTop);
        overlay.copy.decorate(this.frame, top);
      } else {
        tab.screen.paint(this.frame, top, this.links);
      }
      if (overlay.kind !== 'none')
        this.frame.modes = { appCursor: false, appKeypad: false, mouse: 'none', focus: false };
      if (overlay.kind === 'help')
        drawHelp(this.frame, top, rows, prefixLabel(this.prefix), this.backend.detachable ?? false);
      this.frame.title = tab.title || this.backend.statusInfo().name;
    }
    if (statusRow >= 0) drawStatus(this.frame, statusRow, this.statusModel());
    const ansi = this.renderer.render(this.frame);
    if (ansi && !this.term.write(ansi)) this.scheduler.block();
  }

  private readonly onDrain = (): void => {
    this.scheduler.unblock();
  };

  private statusModel(): StatusModel {
    const now = Date.now();
    if (this.message && now > this.message.until) this.message = undefined;
    const overlay = this.overlay;
    let mode: string | undefined;
    let message = this.message?.text;
    if (this.parser.inPrefix) mode = 'PREFIX';
    if (overlay.kind === 'copy') {
      mode = overlay.copy.label;
      message = overlay.copy.message || message;
    }
    if (overlay.kind === 'confirm-quit') message = quitQuestion(overlay.processes);
    const asked = this.clipboard.question(now);
    if (asked !== undefined && message === undefined) {
      message = `guest wants to copy ${asked} bytes to your clipboard: ${prefixLabel(this.prefix)} y allow, ${prefixLabel(this.prefix)} Y always`;
    }
    return {
      info: this.backend.statusInfo(),
      tabs: this.tabs.map((t, i) => ({ title: t.title || 'shell', active: i === this.active, bell: t.bell })),
      now,
      prefix: prefixLabel(this.prefix),
      color: this.opts.color ?? !process.env['NO_COLOR'],
      ...(mode !== undefined ? { mode } : {}),
      ...(message !== undefined ? { message } : {}),
    };
  }

  // ---- ending ------------------------------------------------------------------------------

  finish(result: TuiResult): void {
    if (this.finished) return;
    this.finished = true;
    void this.teardown().then(() => {
      this.resolveDone(result);
    });
  }

  private async teardown(): Promise<void> {
    this.finished = true;
    this.scheduler.dispose();
    if (this.escapeTimer) clearTimeout(this.escapeTimer);
    if (this.statusTimer) clearInterval(this.statusTimer);
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.io.input.off('data', this.onDataGuarded);
    this.io.input.off('end', this.onInputEnd);
    this.io.output.off('resize', this.onResizeGuarded);
    this.io.output.off('drain', this.onDrain);
    this.closeOverlay();
    for (const tab of this.tabs) {
      tab.close();
      tab.dispose();
    }
    this.tabs = [];
    await this.term.restore();
    this.uninstallSafety?.();
  }
}
