// Restart Dovecot and OpenDKIM and reload Postfix (or start them), with systemd or without it, and
// only when needed: a rerun that changed nothing leaves them alone (every IMAP client of a busy server
// would be disconnected for nothing).
import {setTimeout as sleep} from 'node:timers/promises';
import {lastLines} from '../engine.js';
import type {Host} from '../host/host.js';
import {running} from '../lock.js';
import type {Answers, Command} from '../types.js';
import {OPENDKIM, OPENDKIM_FILES} from './dkim.js';
import type {Stage} from './stage.js';

const DOVECOT_PID = '/run/dovecot/master.pid';
const POSTFIX_PID = '/var/spool/postfix/pid/master.pid';
const OPENDKIM_PID = '/run/opendkim/opendkim.pid';
const CONFIGURE_INSTANCE = '/usr/lib/postfix/configure-instance.sh';

/** What is known about one service when deciding. */
export interface ServiceState {
	running: boolean;
	/** When the running service read its configuration (ms since the epoch), if known. */
	loadedAt?: number;
	/** Its files (config dir and the certificate pair it uses) that this run changed. */
	changed: string[];
	/** Its newest file and that file's mtime. */
	newest?: {path: string; mtimeMs: number};
}

/** Why the service must be started, restarted or reloaded now; undefined: leave it alone. */
export function reason(state: ServiceState): string | undefined {
	if (!state.running) return 'not running';
	if (state.changed.length === 1) return `${state.changed[0]} changed by this run`;
	if (state.changed.length > 1) return `${state.changed.length} of its files changed by this run`;
	if (state.newest && state.loadedAt !== undefined && state.newest.mtimeMs > state.loadedAt) {
		return `${state.newest.path} is newer than the running configuration (an earlier run did not finish?)`;
	}
	return undefined;
}

/** The commands for the services, given their states (opendkim: undefined where not installed); nothing when none needs anything. */
export function decide(dovecot: ServiceState, postfix: ServiceState, systemd: boolean, configureInstance: boolean, opendkim?: ServiceState): Command[] {
	const out: Command[] = [];
	// OpenDKIM reads its keys and tables only when it starts; before Postfix, so the milter socket is back first.
	const forOpendkim = opendkim && reason(opendkim);
	if (forOpendkim) out.push({argv: systemd ? ['systemctl', 'restart', 'opendkim'] : ['/etc/init.d/opendkim', 'restart'], why: forOpendkim, done: 'OpenDKIM restarted'});
	const forDovecot = reason(dovecot);
	// Postfix before Dovecot: its smtpd processes keep their connections to Dovecot's auth for up to
	// 100 s, and an auth process with clients outlives Dovecot's master, so the stop waits for it
	// (Dovecot 2.4: up to 6 s). A reload lets idle smtpd processes go at once.
	const forPostfix = reason(postfix) ?? (forDovecot && postfix.running ? "its smtpd processes let go of Dovecot's auth before Dovecot restarts" : undefined);
	if (forPostfix) {
		// A stopped Postfix must be started: `postfix reload` exits 1 then. Debian 12's postfix.service
		// stays "active" while its postfix@- instance is dead, so systemd must restart, not start it.
		const done = postfix.running ? 'Postfix reloaded' : 'Postfix started';
		if (systemd) out.push({argv: ['systemctl', postfix.running ? 'reload' : 'restart', 'postfix'], why: forPostfix, done});
		else if (postfix.running) out.push({argv: ['postfix', 'reload'], why: forPostfix, done});
		else {
			// Without systemd nothing copies /etc/hosts and friends into Postfix's chroot (Debian 12);
			// since Debian 13 `postfix start` runs the script itself.
			if (configureInstance) out.push({argv: [CONFIGURE_INSTANCE, '-'], why: forPostfix});
			out.push({argv: ['postfix', 'start'], why: forPostfix, done});
		}
	}
	if (forDovecot) {
		const done = dovecot.running ? 'Dovecot restarted' : 'Dovecot started';
		if (systemd) out.push({argv: ['systemctl', 'restart', 'dovecot'], why: forDovecot, done});
		else {
			// Listeners change with the config: Dovecot needs a restart, not a reload.
			if (dovecot.running) out.push({argv: ['dovecot', 'stop'], why: forDovecot});
			out.push({argv: ['dovecot'], why: forDovecot, done});
		}
	}
	return out;
}

async function systemd(host: Host): Promise<boolean> {
	return (await host.info('/run/systemd/system'))?.isDirectory ?? false;
}

async function pidIn(host: Host, pidFile: string): Promise<number | undefined> {
	const pid = Number((await host.read(pidFile))?.trim());
	return pid > 0 && running(pid) ? pid : undefined;
}

/** When a process started, in ms since the epoch (from /proc: boot time + its start in clock ticks). */
async function startedAt(host: Host, pid: number): Promise<number | undefined> {
	const stat = await host.read(`/proc/${pid}/stat`);
	const uptime = Number((await host.read('/proc/uptime'))?.split(' ')[0]);
	const ticks = Number(stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
	if (!Number.isFinite(ticks) || !Number.isFinite(uptime)) return undefined;
	return Date.now() - uptime * 1000 + ticks * 10; // USER_HZ is 100 on Linux
}

/** The service's files (directories and files), and which of them this run changed. */
async function files(host: Host, paths: string[]): Promise<Pick<ServiceState, 'changed' | 'newest'>> {
	const own = (target: string) => paths.some(p => target === p || target.startsWith(`${p}/`));
	let newest: ServiceState['newest'];
	for (const target of (await Promise.all(paths.map(p => host.walk(p)))).flat()) {
		const mtimeMs = (await host.info(target))?.mtimeMs;
		if (mtimeMs !== undefined && (!newest || mtimeMs > newest.mtimeMs)) newest = {path: target, mtimeMs};
	}
	return {changed: host.changedPaths().filter(own), newest};
}

async function states(host: Host, answers: Answers): Promise<{dovecot: ServiceState; postfix: ServiceState; opendkim?: ServiceState}> {
	const pair = [answers.cert, answers.key];
	const dovecotPid = await pidIn(host, DOVECOT_PID);
	const opendkimPid = await pidIn(host, OPENDKIM_PID);
	const postfixRunning = (await host.probe(['postfix', 'status'])).exitCode === 0;
	// A reload restarts Postfix's qmgr but not its master: qmgr's start is when the config was read.
	const masterPid = postfixRunning ? await pidIn(host, POSTFIX_PID) : undefined;
	const qmgr = masterPid ? Number((await host.probe(['pgrep', '-P', String(masterPid), '-x', 'qmgr'])).stdout.trim().split('\n')[0]) : 0;
	// loadedFrom: the process whose start is when the configuration was read.
	const state = async (running: boolean, loadedFrom: number | undefined, paths: string[]): Promise<ServiceState> => ({
		running,
		loadedAt: loadedFrom ? await startedAt(host, loadedFrom) : undefined,
		...(await files(host, paths)),
	});
	return {
		dovecot: await state(dovecotPid !== undefined, dovecotPid, ['/etc/dovecot', ...pair]),
		postfix: await state(postfixRunning, qmgr > 0 ? qmgr : undefined, ['/etc/postfix', ...pair]),
		opendkim: (await host.info(OPENDKIM)) ? await state(opendkimPid !== undefined, opendkimPid, OPENDKIM_FILES) : undefined,
	};
}

async function commands(host: Host, answers: Answers): Promise<Command[]> {
	const {dovecot, postfix, opendkim} = await states(host, answers);
	const configure = await host.read(CONFIGURE_INSTANCE);
	return decide(dovecot, postfix, await systemd(host), configure !== undefined && !configure.includes('internal script used by postfix'), opendkim);
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
	for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await check()) return true;
	return check();
}

const NOTHING = 'nothing changed for Dovecot, Postfix or OpenDKIM: they keep running as they are';

export const reload: Stage = {
	id: 'reload',
	title: 'Restart Dovecot and OpenDKIM, reload Postfix',
	async plan(ctx) {
		// A dry run on the real root still shows what it would run (working that out only probes).
		if (ctx.host.root !== '/') return {files: [], commands: [], notes: ['services are not touched under --root']};
		return {files: [], commands: await commands(ctx.host, ctx.answers), notes: []};
	},
	async run(ctx) {
		const {host} = ctx;
		if (!host.services) return {ok: true, message: 'services are not touched under --root', commands: []};
		const planned = await commands(host, ctx.answers);
		if (planned.length === 0) return {ok: true, message: NOTHING, commands: []};
		const done: string[] = [];
		for (const command of planned) {
			const text = command.argv.join(' ');
			ctx.onLine?.(`$ ${text}    (${command.why})`);
			// Dovecot keeps inherited stdio open forever: start it detached from ours. systemd gives a stop 90 s
			// before it kills: wait for its verdict rather than fail while it still restarts the service.
			const result = await host.run(command.argv, {detached: command.argv.length === 1 && command.argv[0] === 'dovecot', timeoutMs: 120_000});
			done.push(text);
			if (result.exitCode !== 0) return {ok: false, message: `${text} failed (exit ${result.exitCode}): ${lastLines(result.stderr)}`, commands: done};
			if (text === 'dovecot stop' && !(await waitFor(async () => !(await pidIn(host, DOVECOT_PID)), 15_000))) {
				return {ok: false, message: 'Dovecot did not stop within 15 s', commands: done};
			}
		}
		if (!(await waitFor(async () => (await pidIn(host, DOVECOT_PID)) !== undefined, 10_000))) {
			return {ok: false, message: `Dovecot did not start: see its log (doveadm log errors) or run "dovecot -F" to see why`, commands: done};
		}
		if (planned.some(command => command.argv.join(' ').includes('opendkim')) && !(await waitFor(async () => (await pidIn(host, OPENDKIM_PID)) !== undefined, 10_000))) {
			return {ok: false, message: 'OpenDKIM did not start: "opendkim -n" shows what is wrong with its configuration', commands: done};
		}
		const status = await host.probe(['postfix', 'status']);
		if (status.exitCode !== 0) return {ok: false, message: `Postfix is not running after ${done.at(-1)}: see the mail log`, commands: done};
		return {ok: true, message: planned.flatMap(command => (command.done ? [`${command.done}: ${command.why}`] : [])).join('\n'), commands: done};
	},
};
