// A private MariaDB for tests: Debian 12's mariadbd (10.11), run from its cached root (roots.ts)
// with its own datadir, socket and port under a temp dir of this process, so no system instance is
// used or disturbed, and this machine needs no MariaDB of its own.
import fs from 'node:fs';
import {setTimeout as sleep} from 'node:timers/promises';
import {running} from '../../source/lock.ts';
import {scratch} from './proc.ts';
import {freePort} from './ports.ts';
import {inRoot, spawnInRoot} from './roots.ts';

export interface MariaDB {
	/** The Unix socket; root reaches it without a password when the caller is OS root (unix_socket auth, as on Debian). */
	socket: string;
	/** TCP port on 127.0.0.1. */
	port: number;
	dir: string;
	/** Stops the server and removes the temp dir; safe to call twice. */
	stop(): Promise<void>;
}

// Runs in the root: the datadir belongs to the root's mysql user; then the server replaces the shell.
const START = String.raw`
set -e
dir=$1 port=$2
shift 2
chown mysql:mysql "$dir"
mariadb-install-db --no-defaults --user=mysql --datadir="$dir/data" --auth-root-authentication-method=socket --skip-test-db >"$dir/install.log" 2>&1
exec mariadbd --no-defaults --user=mysql --datadir="$dir/data" --socket="$dir/sock" --port="$port" --bind-address=127.0.0.1 \
	--pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" "$@"
`;

/** `args`: extra mariadbd options, e.g. --skip-name-resolve. */
export async function startMariaDB(opts: {args?: string[]} = {}): Promise<MariaDB> {
	const {dir, remove} = scratch('mariadb');
	// 0755: other users of the tests (nobody) reach the socket too.
	fs.chmodSync(dir, 0o755);
	const socket = `${dir}/sock`;
	const port = await freePort();
	// Name resolution stays on unless asked (Debian's default), so TCP logins from 127.0.0.1 behave as on a real server.
	const {child, dispose} = spawnInRoot(12, ['sh', '-c', START, 'sh', dir, String(port), ...(opts.args ?? [])], {binds: [dir]});
	let exited = false;
	child.on('exit', () => (exited = true));

	let stopped = false;
	const stop = async () => {
		if (stopped) return;
		stopped = true;
		if (!exited && child.pid && running(child.pid)) {
			child.kill('SIGTERM');
			for (let i = 0; i < 200 && !exited; i++) await sleep(100);
			if (!exited) child.kill('SIGKILL');
		}
		dispose();
		remove();
	};

	// Ready when the socket answers a ping (~1 s here); give up after 60 s.
	for (let i = 0; ; i++) {
		if (exited || i === 300) {
			const log = (name: string) => (fs.existsSync(`${dir}/${name}`) ? fs.readFileSync(`${dir}/${name}`, 'utf8').split('\n').slice(-15).join('\n') : '');
			const tail = `${log('install.log')}\n${log('error.log')}`;
			await stop();
			throw new Error(`private mariadbd did not start:\n${tail}`);
		}
		if ((await inRoot(12, ['mariadb-admin', '--no-defaults', `--socket=${socket}`, '--user=root', 'ping'], {binds: [dir]})).exitCode === 0) break;
		await sleep(200);
	}
	return {socket, port, dir, stop};
}
