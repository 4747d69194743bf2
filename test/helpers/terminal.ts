// A real terminal on a test host: tmux, driven as a person types into it.
//
//   const term = await Terminal.open(laptop, {cols: 100, rows: 30});
//   await term.type('ssh -tt root@mail.example.test');  // text: one read on the other side
//   await term.keys('Enter');                            // keys of one send-keys: one read
//   await term.press('BSpace', 'BSpace');                // one read per key, a pause between
//   await term.paste('secret\n');                        // a paste (bracketed when the app asked)
//   const screen = await term.waitFor(/Summary/);         // what is on screen, once it matches
//   term.presses                                         // keys pressed (not counting typed text)
//   term.screens                                         // every distinct screen seen so far
//   await term.colours()                                 // the screen with its colours (SGR escapes)
//   await term.clearHistory()                            // a clean screen and history
//
// Keys are tmux key names (Enter, BSpace, Up, C-u, Space, …). The tmux server runs on the host
// (its network namespace, its /etc/hosts, root's home there) and ends with the network; the test
// drives it from here through its socket.
import {setTimeout as sleep} from 'node:timers/promises';
import path from 'node:path';
import {exec, must} from './proc.ts';
import type {Host} from './server.ts';

export class Terminal {
	/** Keys sent with keys() and press(), as a person presses them; typed and pasted text not counted. */
	presses = 0;
	/** Every distinct screen captured so far (by screen() and waitFor()), in order. */
	readonly screens: string[] = [];

	private constructor(
		readonly socket: string,
		readonly cols: number,
		readonly rows: number,
	) {}

	/** A shell (bash, no rc files) in a cols×rows tmux window on the host, as its root. */
	static async open(host: Host, options: {cols?: number; rows?: number} = {}): Promise<Terminal> {
		const cols = options.cols ?? 80;
		const rows = options.rows ?? 30;
		const socket = path.join(host.dir, `tmux-${Date.now()}.sock`);
		const run = await host.run(['tmux', '-S', socket, 'new-session', '-d', '-s', 'main', '-x', String(cols), '-y', String(rows), 'bash --norc --noprofile'], {
			env: {TERM: 'xterm-256color'},
		});
		if (run.exitCode !== 0) throw new Error(`tmux did not start on ${host.name}: ${run.stderr.trim()}`);
		const term = new Terminal(socket, cols, rows);
		await term.tmux('set-option', '-t', 'main', 'history-limit', '20000');
		return term;
	}

	private tmux(...args: string[]): Promise<string> {
		return must(['tmux', '-S', this.socket, ...args], {timeout: 10_000});
	}

	/** Text as typed in one go (one read for the program). */
	async type(text: string): Promise<void> {
		await this.tmux('send-keys', '-t', 'main', '-l', text);
	}

	/** Keys in one send-keys: the program gets them in one read (fast typing, a held key). */
	async keys(...keys: string[]): Promise<void> {
		this.presses += keys.length;
		await this.tmux('send-keys', '-t', 'main', ...keys);
	}

	/** Keys one by one, each its own read (a pause of `gap` ms between them). */
	async press(...keys: string[]): Promise<void> {
		for (const key of keys) {
			await this.keys(key);
			await sleep(60);
		}
	}

	/** A paste of text (as from a password manager); bracketed when the program asked for it. */
	async paste(text: string): Promise<void> {
		await must(['tmux', '-S', this.socket, 'load-buffer', '-b', 'paste', '-'], {input: text, timeout: 10_000});
		await this.tmux('paste-buffer', '-p', '-d', '-b', 'paste', '-t', 'main');
	}

	/** What the screen shows now, one line per row (trailing spaces cut). */
	async screen(): Promise<string> {
		const screen = await this.tmux('capture-pane', '-p', '-t', 'main');
		if (screen !== this.screens.at(-1)) this.screens.push(screen);
		return screen;
	}

	/** Everything that scrolled by, and the screen. */
	history(): Promise<string> {
		return this.tmux('capture-pane', '-p', '-S', '-', '-t', 'main');
	}

	/** The screen as screen() does, with its colours as SGR escapes; with history, what scrolled by too. */
	colours(history = false): Promise<string> {
		return this.tmux('capture-pane', '-p', '-e', ...(history ? ['-S', '-'] : []), '-t', 'main');
	}

	/** Forgets the history and clears the screen (the shell prompt stays). */
	async clearHistory(): Promise<void> {
		await this.tmux('send-keys', '-t', 'main', '-R');
		await this.tmux('clear-history', '-t', 'main');
	}

	/** The screen once it matches (polled every 50 ms); throws with the screen after `timeout` ms (default 30 s). */
	async waitFor(want: RegExp | ((screen: string) => boolean), timeout = 30_000): Promise<string> {
		const test = typeof want === 'function' ? want : (screen: string) => want.test(screen);
		let screen = '';
		for (const end = Date.now() + timeout; Date.now() < end; await sleep(50)) {
			screen = await this.screen();
			if (test(screen)) return screen;
		}
		throw new Error(`the terminal did not show ${want} within ${timeout / 1000} s; it shows:\n${screen}`);
	}

	/** Ends the tmux server (and what runs in it). */
	async close(): Promise<void> {
		await exec(['tmux', '-S', this.socket, 'kill-server'], {timeout: 10_000});
	}
}
