// Restart Dovecot and reload Postfix (or start them), with systemd or without it.
import {setTimeout as sleep} from 'node:timers/promises';
import {lastLines} from '../engine.js';
import type {Host} from '../host/host.js';
import {running} from '../lock.js';
import type {Command} from '../types.js';
import type {Stage} from './stage.js';

const DOVECOT_PID = '/run/dovecot/master.pid';
const CONFIGURE_INSTANCE = '/usr/lib/postfix/configure-instance.sh';

async function systemd(host: Host): Promise<boolean> {
	return (await host.info('/run/systemd/system'))?.isDirectory ?? false;
}

async function alive(host: Host, pidFile: string): Promise<boolean> {
	const pid = Number((await host.read(pidFile))?.trim());
	return pid > 0 && running(pid);
}

/** What will run, given what runs now: a stopped Postfix must be started, not reloaded (that exits 1). */
async function commands(host: Host): Promise<Command[]> {
	if (await systemd(host)) {
		return [{argv: ['systemctl', 'restart', 'dovecot']}, {argv: ['systemctl', 'reload-or-restart', 'postfix']}];
	}
	const out: Command[] = [];
	if (await alive(host, DOVECOT_PID)) out.push({argv: ['dovecot', 'stop'], why: 'restart Dovecot: listeners change'});
	out.push({argv: ['dovecot'], why: 'start Dovecot'});
	if ((await host.probe(['postfix', 'status'])).exitCode === 0) out.push({argv: ['postfix', 'reload']});
	else {
		// Without systemd nothing copies /etc/hosts and friends into Postfix's chroot (Debian 12);
		// since Debian 13 `postfix start` runs the script itself, which refuses to be called from outside.
		const configure = await host.read(CONFIGURE_INSTANCE);
		if (configure !== undefined && !configure.includes('internal script used by postfix')) out.push({argv: [CONFIGURE_INSTANCE, '-']});
		out.push({argv: ['postfix', 'start']});
	}
	return out;
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
	for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await check()) return true;
	return check();
}

export const reload: Stage = {
	id: 'reload',
	title: 'Restart Dovecot, reload Postfix',
	async plan(ctx) {
		// A dry run on the real root still shows what it would run (working that out only probes).
		if (ctx.host.root !== '/') return {files: [], commands: [], notes: ['services are not touched under --root']};
		return {files: [], commands: await commands(ctx.host), notes: []};
	},
	async run(ctx) {
		const {host} = ctx;
		if (!host.services) return {ok: true, message: 'services are not touched under --root', commands: []};
		const done: string[] = [];
		for (const command of await commands(host)) {
			const text = command.argv.join(' ');
			ctx.onLine?.(`$ ${text}`);
			// Dovecot keeps inherited stdio open forever: start it detached from ours.
			const result = await host.run(command.argv, {detached: command.argv.length === 1 && command.argv[0] === 'dovecot'});
			done.push(text);
			if (result.exitCode !== 0) return {ok: false, message: `${text} failed (exit ${result.exitCode}): ${lastLines(result.stderr)}`, commands: done};
			if (text === 'dovecot stop' && !(await waitFor(async () => !(await alive(host, DOVECOT_PID)), 15_000))) {
				return {ok: false, message: 'Dovecot did not stop within 15 s', commands: done};
			}
		}
		if (!(await systemd(host))) {
			if (!(await waitFor(() => alive(host, DOVECOT_PID), 10_000))) {
				return {ok: false, message: `Dovecot did not start: see its log (doveadm log errors) or run "dovecot -F" to see why`, commands: done};
			}
		}
		const status = await host.probe(['postfix', 'status']);
		if (status.exitCode !== 0) return {ok: false, message: `Postfix is not running after ${done.at(-1)}: see the mail log`, commands: done};
		return {ok: true, message: 'Dovecot restarted, Postfix running with the new configuration', commands: done};
	},
};
