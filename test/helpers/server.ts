// The harness for end-to-end tests: a test network of hosts, servers booted from the pristine
// Debian roots with systemd as PID 1, and commands on either side. Needs root, systemd-nspawn and
// the roots of test/setup/roots.sh.
//
//   const net = await TestNet.create();          // everything below is removed by net.close(),
//   t.after(() => net.close());                  // and also when the test process dies or is killed
//   const server = await net.boot(12);           // Debian 12, services started by systemd at boot
//   const laptop = await net.add('laptop');      // a plain host: this machine's tools, its own address
//   await server.run(['systemctl', 'is-active', 'dovecot']);         // → {exitCode, stdout, stderr}
//   await laptop.run(['swaks', '--server', server.address, ...], {user: 'nobody'});
//
// The network: 203.0.113.0/24 (TEST-NET-3), a bridge in a namespace of its own, and every host in
// its own network namespace (eth0 on the bridge, lo), all named `mst-<pid>-<n>-…`; nothing is
// added to this machine's own network namespace, and no test traffic leaves it.
//
// TestNet.create(): Promise<TestNet>            a new, empty network
// net.add(name, {address?}): Promise<Host>      a host (laptop, DNS server, ACME CA, second client):
//                                               its commands run from this machine's file system in
//                                               the host's namespace, with its own home, /etc/hosts
//                                               and /etc/resolv.conf (files in host.dir/etc)
// net.boot(release, {name?}): Promise<Server>   boots the release's root as a server (an overlay per
//                                               boot with a tmpfs upper layer: nothing leaks
//                                               between boots or into the cache), waits until
//                                               systemd says running
// net.hosts                                     every host and server, in order of creation
// net.close(): Promise<void>                    stops servers, kills every process on the network,
//                                               deletes the namespaces and temp dirs
//
// Host (the laptop side):
//   name, address, ns, dir (its temp dir), home (HOME of root there: the key for root@<server>
//   in .ssh, known_hosts of every booted server); homeOf(user): HOME of another user there
//   run(argv, {user?, input?, timeout?, env?, cwd?}): Promise<RunResult>   as root or as user
//   spawn(argv, {user?, env?, log?}): ChildProcess  a daemon on this host, killed by net.close()
//
// Server (extends the Host interface; commands run inside the booted container as root):
//   release, fqdn ('mail.example.test', in every host's /etc/hosts), address, leader (its PID 1)
//   run(argv, {user?, input?, timeout?, env?, cwd?}): Promise<RunResult>
//   read(path): Promise<string | undefined>       undefined when the file does not exist
//   write(path, content, {mode?, owner?}): Promise<void>   atomic, final mode from the start
//   journal(unit): Promise<string>                this boot's journal of the unit
//   mainPid(unit): Promise<number>                systemd's MainPID (0: not running)
//   stop(): Promise<void>                         kills the container (its overlay goes with it)
//
// Related helpers: terminal.ts (tmux on a host: what a person types), registry.ts (npm pack, a
// tiny npm registry so `npx mail-setup` works on a server as typed), roots.ts (a release's tools
// chrooted, for unit tests).
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {atExit, deleteNetns, exec, makeCgroups, must, PREFIX, scratch, type RunResult} from './proc.ts';
import {CACHE, rootDir, type Release} from './roots.ts';

export type {Release, RunResult};
export const FQDN = 'mail.example.test';
export const SUBNET = '203.0.113';
/** The private key whose public half is root's authorized_keys in every root. */
export const SSH_KEY = `${CACHE}/roots/ssh/id_ed25519`;

export interface RunOptions {
	/** Run as this user (default root). */
	user?: string;
	input?: string | Buffer;
	/** ms, default 60 s. */
	timeout?: number;
	/** Added to the clean environment (PATH, HOME, LANG=C.UTF-8). */
	env?: Record<string, string>;
	cwd?: string;
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
let nets = 0;

/** `exec setpriv` as USER (with that user's groups) when USER is not root; then env -i. */
const AS_USER = String.raw`
user=$1
shift
if [ "$user" = root ]; then exec "$@"; fi
exec setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- "$@"
`;

function cleanEnv(home: string, extra: Record<string, string> = {}): string[] {
	return Object.entries({PATH, HOME: home, LANG: 'C.UTF-8', ...extra}).map(([key, value]) => `${key}=${value}`);
}

export class Host {
	/** Its temp dir: etc/hosts and etc/resolv.conf there are this host's. */
	readonly dir: string;
	/** HOME of root on this host (bound over /root for its commands). */
	readonly home: string;

	constructor(
		readonly net: TestNet,
		readonly name: string,
		readonly address: string,
		/** The network namespace (under /run/netns). */
		readonly ns: string,
		dir: string,
	) {
		this.dir = dir;
		this.home = path.join(dir, 'root');
	}

	/**
	 * The argv that runs argv on this host: its network namespace, a private mount namespace in
	 * which its etc files and home are bound over this machine's, then as user with a clean env.
	 */
	protected wrap(argv: string[], options: RunOptions): string[] {
		const user = options.user ?? 'root';
		const home = user === 'root' ? '/root' : this.homeOf(user);
		const script = String.raw`
			set -e
			dir=$1
			shift
			for f in "$dir"/etc/*; do mount --bind "$f" "/etc/$(basename "$f")"; done
			mount --bind "$dir/root" /root
			cd "$1"
			shift
			` + AS_USER;
		return [
			'unshare', '--mount', '--propagation', 'private', 'nsenter', `--net=/run/netns/${this.ns}`, '--',
			'sh', '-c', script, 'sh', this.dir, options.cwd ?? '/', user,
			'/usr/bin/env', '-i', ...cleanEnv(home, options.env), ...argv,
		];
	}

	/** HOME of a user on this host (made on first use, theirs): where their files go. */
	homeOf(user: string): string {
		if (user === 'root') return this.home;
		const home = path.join(this.dir, `home-${user}`);
		if (!fs.existsSync(home)) {
			fs.mkdirSync(home, {mode: 0o700});
			spawnSync('chown', [`${user}:`, home]);
		}
		return home;
	}

	/** Runs argv on this host (see RunOptions); never throws for an exit code. */
	run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
		return exec(this.wrap(argv, options), {input: options.input, timeout: options.timeout, env: {PATH}});
	}

	/** A daemon on this host; its output goes to the file `log` (default: discarded). Ends with the net. */
	spawn(argv: string[], options: Omit<RunOptions, 'input' | 'timeout'> & {log?: string} = {}): ChildProcess {
		const out = options.log ? fs.openSync(options.log, 'a') : 'ignore';
		const wrapped = this.wrap(argv, options);
		const child = spawn(wrapped[0]!, wrapped.slice(1), {env: {PATH}, stdio: ['ignore', out, out], detached: true});
		if (typeof out === 'number') fs.closeSync(out);
		return child;
	}

	/** Rewrites this host's /etc/hosts in place (bind mounts of running commands see it too). */
	writeHosts(entries: string[]): void {
		fs.writeFileSync(path.join(this.dir, 'etc/hosts'), ['127.0.0.1\tlocalhost', ...entries, ''].join('\n'));
	}
}

export class Server extends Host {
	readonly fqdn = FQDN;

	constructor(
		net: TestNet,
		name: string,
		address: string,
		ns: string,
		dir: string,
		readonly release: Release,
		/** The container's PID 1 (systemd), as seen from this machine. */
		readonly leader: number,
		private readonly nspawn: ChildProcess,
		/** Kills what is left in the server's cgroups and removes them. */
		private readonly removeCgroups: () => void,
	) {
		super(net, name, address, ns, dir);
	}

	/** Inside the container: all its namespaces and its root, then as user with a clean env. */
	protected override wrap(argv: string[], options: RunOptions): string[] {
		const user = options.user ?? 'root';
		const inside = ['sh', '-c', `cd "$1" && shift\n${AS_USER}`];
		return [
			'nsenter', '-t', String(this.leader), '-a', '-r', '-w', '--',
			...inside, 'sh', options.cwd ?? '/', user,
			'/usr/bin/env', '-i', ...cleanEnv(user === 'root' ? '/root' : '/', options.env), ...argv,
		];
	}

	/** The file's content, or undefined when it does not exist. */
	async read(file: string): Promise<string | undefined> {
		const run = await this.run(['sh', '-c', '[ -e "$1" ] || exit 3; exec cat -- "$1"', 'sh', file]);
		if (run.exitCode === 3) return undefined;
		if (run.exitCode !== 0) throw new Error(`${this.name}: cannot read ${file}: ${run.stderr.trim()}`);
		return run.stdout;
	}

	/** Writes the file atomically with its final owner and mode from the start (default root:root 0644); makes missing dirs. */
	async write(file: string, content: string | Buffer, options: {mode?: number; owner?: string} = {}): Promise<void> {
		const script = 'mkdir -p "$(dirname "$1")" && umask 077 && t="$1.mst-$$" && cat >"$t" && chown "$2" "$t" && chmod "$3" "$t" && mv -f "$t" "$1"';
		const mode = (options.mode ?? 0o644).toString(8);
		const run = await this.run(['sh', '-c', script, 'sh', file, options.owner ?? 'root:root', mode], {input: content});
		if (run.exitCode !== 0) throw new Error(`${this.name}: cannot write ${file}: ${run.stderr.trim()}`);
	}

	/** This boot's journal of a unit. */
	async journal(unit: string): Promise<string> {
		return (await this.run(['journalctl', '-b', '-u', unit, '--no-pager', '-o', 'short-precise'])).stdout;
	}

	/** systemd's MainPID of a unit (0 when it is not running). */
	async mainPid(unit: string): Promise<number> {
		return Number((await this.run(['systemctl', 'show', '-P', 'MainPID', unit])).stdout.trim());
	}

	/** Kills the container; its overlay (a tmpfs) and its cgroups go with it. */
	async stop(): Promise<void> {
		if (this.nspawn.exitCode === null && this.nspawn.signalCode === null) {
			const exited = new Promise(resolve => this.nspawn.once('exit', resolve));
			try {
				process.kill(this.leader, 'SIGKILL');
			} catch {}
			await Promise.race([exited, sleep(10_000)]);
		}
		this.removeCgroups();
	}
}

export class TestNet {
	readonly hosts: Host[] = [];
	private readonly switchNs: string;
	private readonly closeNow: () => void;
	private readonly dir: string;

	private constructor(readonly id: string) {
		this.switchNs = `${id}-sw`;
		const {dir, remove} = scratch(id.slice(PREFIX.length + 1));
		fs.chmodSync(dir, 0o711); // every user of a host may reach its home and files below
		this.dir = dir;
		// On a crash or a signal: kill and delete, synchronously (net.close() is the normal way).
		this.closeNow = atExit(() => {
			for (const host of [...this.hosts].reverse()) deleteNetns(host.ns);
			deleteNetns(this.switchNs);
			remove();
		});
	}

	/** A new, empty network with a bridge (in a namespace of its own) that every host joins. */
	static async create(): Promise<TestNet> {
		const net = new TestNet(`${PREFIX}-${++nets}`);
		await must(['ip', 'netns', 'add', net.switchNs]);
		await must(['ip', '-n', net.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
		await must(['ip', '-n', net.switchNs, 'link', 'set', 'br0', 'up']);
		return net;
	}

	/** A new host on the network (names: letters, digits, '-', up to 12). Address default: the next free one from .10. */
	async add(name: string, options: {address?: string} = {}): Promise<Host> {
		const {ns, address, dir} = await this.join(name, options.address);
		const host = new Host(this, name, address, ns, dir);
		this.hosts.push(host);
		this.updateHosts();
		return host;
	}

	/** Boots the release's root as a server named `name` (default 'server'); resolves once systemd says running. */
	async boot(release: Release, options: {name?: string} = {}): Promise<Server> {
		const root = rootDir(release);
		const name = options.name ?? 'server';
		const {ns, address, dir} = await this.join(name);
		const log = fs.openSync(path.join(dir, 'console.log'), 'a');
		// With --keep-unit (there is no systemd here to ask for a scope), nspawn puts the container in
		// <its own cgroup>/payload: booted from this machine's root cgroup, every server of every test
		// running here would share /payload/system.slice/dovecot.service and the like, and a server's
		// systemd would wait out its 90 s stop timeout for another server's processes to leave. So
		// nspawn starts in a cgroup of this server's own.
		const cgroups = makeCgroups(ns);
		const nspawn = spawn(
			'sh',
			[
				'-c', 'for procs in $1; do echo $$ >"$procs"; done; shift; exec "$@"', 'sh', cgroups.procs.join(' '),
				'systemd-nspawn', '-D', root, '--volatile=overlay', '-b', '--register=no', '--keep-unit', '--console=pipe', '-M', ns, `--network-namespace-path=/run/netns/${ns}`,
				// Masked: a container has no file systems of its own to remount, and on a busy machine
				// Debian 13's remount-fs sometimes failed, leaving the boot "degraded".
				'--bind-ro=/dev/null:/etc/systemd/system/systemd-remount-fs.service',
			],
			{stdio: ['ignore', log, log], detached: true, env: {PATH}},
		);
		fs.closeSync(log);
		const leader = await leaderOf(nspawn, dir);
		const server = new Server(this, name, address, ns, dir, release, leader, nspawn, cgroups.remove);
		this.hosts.push(server);
		this.updateHosts();
		await waitRunning(server);
		for (const host of this.hosts) if (!(host instanceof Server)) this.knownHostLine(server, host.dir);
		return server;
	}

	/** Stops every server, kills every process on the network, deletes its namespaces and temp dirs. */
	async close(): Promise<void> {
		await Promise.all(this.hosts.filter(host => host instanceof Server).map(server => (server as Server).stop()));
		this.closeNow();
	}

	private async join(name: string, wanted?: string): Promise<{ns: string; address: string; dir: string}> {
		if (!/^[a-z][a-z0-9-]{0,11}$/.test(name) || this.hosts.some(host => host.name === name)) throw new Error(`bad or taken host name: ${name}`);
		const address = wanted ?? this.freeAddress();
		const ns = `${this.id}-${name}`;
		const dir = path.join(this.dir, name);
		fs.mkdirSync(path.join(dir, 'etc'), {recursive: true, mode: 0o711});
		fs.writeFileSync(path.join(dir, 'etc/resolv.conf'), ''); // offline: no resolver until a test sets one
		fs.mkdirSync(path.join(dir, 'root/.ssh'), {recursive: true, mode: 0o700});
		fs.copyFileSync(SSH_KEY, path.join(dir, 'root/.ssh/id_ed25519'));
		fs.chmodSync(path.join(dir, 'root/.ssh/id_ed25519'), 0o600);
		fs.chmodSync(path.join(dir, 'root'), 0o700);
		fs.writeFileSync(path.join(dir, 'root/.ssh/known_hosts'), '');
		for (const known of this.hosts) if (known instanceof Server) this.knownHostLine(known, dir);
		await must(['ip', 'netns', 'add', ns]);
		const port = `v-${name}`;
		await must(['ip', '-n', this.switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
		await must(['ip', '-n', this.switchNs, 'link', 'set', port, 'master', 'br0', 'up']);
		await must(['ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
		await must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
		await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
		return {ns, address, dir};
	}

	private freeAddress(): string {
		for (let n = 10; n < 250; n++) {
			const address = `${SUBNET}.${n}`;
			if (!this.hosts.some(host => host.address === address)) return address;
		}
		throw new Error('the test network is full');
	}

	/** Every host knows every other by name; a server also as mail.example.test. */
	private updateHosts(): void {
		const entries = this.hosts.map(host => `${host.address}\t${host instanceof Server ? `${host.fqdn} ` : ''}${host.name}`);
		for (const host of this.hosts) if (!(host instanceof Server)) host.writeHosts(entries);
	}

	/** The host (its root) trusts the server's SSH host key, as after a first connection. */
	private knownHostLine(server: Server, dir: string): void {
		const key = fs.readFileSync(path.join(rootDir(server.release), 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
		fs.appendFileSync(path.join(dir, 'root/.ssh/known_hosts'), `${server.fqdn},${server.name},${server.address} ${key}\n`);
	}
}

/**
 * The container's PID 1, once it runs systemd: the child of nspawn that execs it (entering its
 * namespaces any earlier, while nspawn still sets them up, kills the container).
 */
async function leaderOf(nspawn: ChildProcess, dir: string): Promise<number> {
	for (const end = Date.now() + 15_000; Date.now() < end; await sleep(20)) {
		if (nspawn.exitCode !== null) break;
		const children = fs.readFileSync(`/proc/${nspawn.pid}/task/${nspawn.pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
		for (const pid of children) {
			try {
				if (path.basename(fs.readlinkSync(`/proc/${pid}/exe`)) === 'systemd') return Number(pid);
			} catch {} // exited meanwhile
		}
	}
	throw new Error(`systemd-nspawn did not start a container:\n${tail(path.join(dir, 'console.log'))}`);
}

/** Waits until systemd in the server says running; names the failed units when it says degraded. */
async function waitRunning(server: Server): Promise<void> {
	let run: RunResult;
	// Until systemd has its socket, systemctl cannot connect (or says offline): ask again.
	for (const end = Date.now() + 120_000; ; await sleep(50)) {
		run = await server.run(['systemctl', 'is-system-running', '--wait'], {timeout: 120_000});
		if (!['', 'offline'].includes(run.stdout.trim()) || Date.now() > end) break;
	}
	const state = run.stdout.trim();
	if (state === 'running') return;
	const failed = (await server.run(['systemctl', '--failed', '--no-legend', '--plain'])).stdout.trim();
	const journals = await Promise.all(failed.split('\n').filter(Boolean).map(async line => {
		const unit = line.split(/\s+/)[0]!;
		return `--- ${unit}\n${(await server.journal(unit)).trim().split('\n').slice(-10).join('\n')}`;
	}));
	await server.stop();
	throw new Error(`Debian ${server.release} server booted ${state || run.stderr.trim()}: failed units:\n${failed}\n${journals.join('\n')}\n${tail(path.join(server.dir, 'console.log'))}`);
}

function tail(file: string, lines = 20): string {
	try {
		return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
	} catch {
		return '';
	}
}
