// A private MariaDB for tests: its own datadir, socket and port under a temp dir, so no system instance is used or disturbed.
import {execFile, spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {freePort} from './ports.ts';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export interface MariaDB {
	/** The Unix socket; root reaches it without a password when the caller is OS root (unix_socket auth, as on Debian). */
	socket: string;
	/** TCP port on 127.0.0.1. */
	port: number;
	dir: string;
	/** Stops the server by its pid file and removes the temp dir; safe to call twice. */
	stop(): Promise<void>;
}


const alive = (pid: number): boolean => {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
};

/** `args`: extra mariadbd options, e.g. --skip-name-resolve. */
export async function startMariaDB(opts: {args?: string[]} = {}): Promise<MariaDB> {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mail-setup-mariadb-'));
	// mariadbd runs as mysql and writes its socket here; 0755 so other test users could reach the socket too.
	fs.chmodSync(dir, 0o755);
	await run('chown', ['mysql:mysql', dir]);
	const datadir = path.join(dir, 'data');
	const socket = path.join(dir, 'sock');
	const pidFile = path.join(dir, 'mariadbd.pid');
	const log = path.join(dir, 'error.log');
	await run('mariadb-install-db', ['--no-defaults', '--user=mysql', `--datadir=${datadir}`, '--auth-root-authentication-method=socket', '--skip-test-db']);
	const port = await freePort();
	// Name resolution stays on (Debian's default), so TCP logins from 127.0.0.1 behave as on a real server.
	const child = spawn(
		'mariadbd',
		['--no-defaults', '--user=mysql', `--datadir=${datadir}`, `--socket=${socket}`, `--port=${port}`, '--bind-address=127.0.0.1', `--pid-file=${pidFile}`, `--log-error=${log}`, ...(opts.args ?? [])],
		{stdio: 'ignore', detached: true},
	);
	child.unref();
	let exited = false;
	child.on('exit', () => (exited = true));

	let stopped = false;
	const stop = async () => {
		if (stopped) return;
		stopped = true;
		const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim()) : child.pid;
		if (pid && alive(pid)) {
			process.kill(pid, 'SIGTERM');
			for (let i = 0; i < 200 && alive(pid); i++) await sleep(100);
			if (alive(pid)) process.kill(pid, 'SIGKILL');
		}
		fs.rmSync(dir, {recursive: true, force: true});
	};

	// Ready when the socket answers a ping (~0.5 s here); give up after 30 s.
	for (let i = 0; ; i++) {
		if (exited || i === 300) {
			const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '';
			await stop();
			throw new Error(`private mariadbd did not start:\n${tail}`);
		}
		try {
			await run('mariadb-admin', ['--no-defaults', `--socket=${socket}`, '--user=root', 'ping']);
			break;
		} catch {
			await sleep(100);
		}
	}
	return {socket, port, dir, stop};
}
