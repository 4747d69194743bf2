// npm run bench: start-up, planning and certificate speed against their baselines, measured in one run.
import {execFileSync, spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {makePair} from '../../source/stages/certificate.ts';
import {makeDkimKey} from '../../source/stages/dkim.ts';
import {adminDb} from '../helpers/admin.ts';
import {makeStockTree} from '../helpers/stock.ts';

const bin = path.resolve('bin/mail-setup.js');
const runs = Number(process.env.BENCH_RUNS ?? 7);

function time(argv: string[], env: NodeJS.ProcessEnv = {}): number {
	const start = process.hrtime.bigint();
	const run = spawnSync(argv[0]!, argv.slice(1), {stdio: 'ignore', env: {...process.env, CI: '1', ...env}});
	if (run.status !== 0) throw new Error(`${argv.join(' ')} exited ${run.status}`);
	return Number(process.hrtime.bigint() - start) / 1e6;
}

async function timeAsync(work: () => Promise<unknown>): Promise<number> {
	const start = process.hrtime.bigint();
	await work();
	return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const best = (xs: number[]) => Math.min(...xs);
const repeat = (n: number, f: () => number) => Array.from({length: n}, f);

function withoutCI(): NodeJS.ProcessEnv {
	const env = {...process.env};
	delete env.CI;
	return env;
}

/** Time until the first frame of the real TUI reaches a terminal (a pty made by script(1)). */
function firstFrame(command: string): Promise<number> {
	return new Promise((resolve, reject) => {
		const start = process.hrtime.bigint();
		const child = spawn('script', ['-qfec', command, '/dev/null'], {
			// Not CI='' : ink treats a CI variable of any value as "render only the last frame".
			env: {...withoutCI(), TERM: 'xterm-256color', COLUMNS: '100', LINES: '30'},
			stdio: ['ignore', 'pipe', 'ignore'],
		});
		let seen = '';
		const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error('no frame within 10 s'))), 10_000);
		child.stdout.on('data', chunk => {
			seen += chunk.toString();
			if (/mail-setup/i.test(seen.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, ''))) {
				clearTimeout(timer);
				resolve(Number(process.hrtime.bigint() - start) / 1e6);
				child.kill('SIGKILL');
			}
		});
	});
}

const rows: string[][] = [];
function row(what: string, value: string, baseline: string, ratio: number | undefined, target: string, met: boolean) {
	rows.push([what, value, baseline, ratio === undefined ? '' : `${ratio.toFixed(2)}×`, target, met ? 'met' : 'NOT MET']);
}
const ms = (x: number) => `${x.toFixed(0)} ms`;

const node0 = repeat(runs, () => time([process.execPath, '-e', '0']));
const nodeMedian = median(node0);
const help = repeat(runs, () => time([process.execPath, bin, '--help']));
row('--help (best/median)', `${ms(best(help))}/${ms(median(help))}`, `node -e 0 ${ms(best(node0))}/${ms(nodeMedian)}`, median(help) / nodeMedian, '≤ 3×', median(help) / nodeMedian <= 3);

const tree = await makeStockTree(12);
const plan = repeat(runs, () =>
	time([process.execPath, bin, '--dry-run', '--json', '--root', tree, '--fqdn', 'mail.example.test', 'dovecot-sql', 'permissions', 'dovecot-master', 'lda', 'certificate', 'dovecot-ssl', 'postfix', 'submission']),
);
row('dry-run plan, all file stages', `${ms(best(plan))}/${ms(median(plan))}`, `node -e 0 ${ms(nodeMedian)}`, median(plan) / nodeMedian, '≤ 6×', median(plan) / nodeMedian <= 6);

// Both through the same pty (script(1)), so the baseline pays the same terminal set-up.
const frames: number[] = [];
const bare: number[] = [];
for (let i = 0; i < runs; i++) {
	frames.push(await firstFrame(`${process.execPath} ${bin} --dry-run --root ${tree} --fqdn mail.example.test`));
	bare.push(await firstFrame(`${process.execPath} -e "console.log('mail-setup')"`));
}
row('first TUI frame (in a pty)', `${ms(best(frames))}/${ms(median(frames))}`, `node -e 0 in a pty ${ms(median(bare))}`, median(frames) / median(bare), '≤ 4×', median(frames) / median(bare) <= 4);

const certRuns = Math.max(3, Math.ceil(runs / 2));
const forge: number[] = [];
const openssl: number[] = [];
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
for (let i = 0; i < certRuns; i++) {
	// Interleaved so that load on the machine hits both alike; prime search is random, so medians.
	forge.push(await timeAsync(() => makePair('mail.example.test')));
	openssl.push(
		time(['openssl', 'req', '-new', '-newkey', 'rsa:4096', '-x509', '-days', '365', '-nodes', '-subj', '/CN=mail.example.test', '-out', path.join(scratch, 'c.crt'), '-keyout', path.join(scratch, 'c.key')]),
	);
}
row('certificate (node-forge), median', ms(median(forge)), `openssl req ${ms(median(openssl))}`, median(forge) / median(openssl), '≤ 1.5×', median(forge) / median(openssl) <= 1.5);

const dkimKeys: number[] = [];
const genrsa: number[] = [];
for (let i = 0; i < certRuns; i++) {
	dkimKeys.push(await timeAsync(() => makeDkimKey()));
	genrsa.push(time(['openssl', 'genrsa', '-out', path.join(scratch, 'dkim.key'), '2048']));
}
row('DKIM key (node:crypto RSA-2048), median', ms(median(dkimKeys)), `openssl genrsa ${ms(median(genrsa))}`, median(dkimKeys) / median(genrsa), '≤ 1.5×', median(dkimKeys) / median(genrsa) <= 1.5);

// Day two against a private MariaDB: a list (one read) and an add (hash + one transaction), as the CLI starts cold;
// the dry-run plan's bound: both are the bundle's start plus a socket connect (~20 ms) and a few queries.
const mail = await adminDb();
const mailTree = mail.tree(scratch, '2.3');
fs.writeFileSync(path.join(scratch, 'mailbox-pw'), 'bench-Password-1\n', {mode: 0o600});
const lists = repeat(runs, () => time([process.execPath, bin, 'mailbox', 'list', '--root', mailTree]));
row('mailbox list (best/median)', `${ms(best(lists))}/${ms(median(lists))}`, `node -e 0 ${ms(nodeMedian)}`, median(lists) / nodeMedian, '≤ 6×', median(lists) / nodeMedian <= 6);
let added = 0;
const adds = repeat(runs, () => time([process.execPath, bin, 'mailbox', 'add', `bench${added++}@example.test`, '--password-file', path.join(scratch, 'mailbox-pw'), '--root', mailTree]));
row('mailbox add (best/median)', `${ms(best(adds))}/${ms(median(adds))}`, `node -e 0 ${ms(nodeMedian)}`, median(adds) / nodeMedian, '≤ 6×', median(adds) / nodeMedian <= 6);
await mail.db.stop();

const pack = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', scratch], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}))[0];
row('packed size', `${(pack.size / 1024).toFixed(0)} KiB (${pack.entryCount} files)`, '', undefined, '≤ 1.5 MB', pack.size <= 1.5e6);
const deps = Object.keys(JSON.parse(fs.readFileSync('package.json', 'utf8')).dependencies ?? {}).length;
row('runtime dependencies', String(deps), '', undefined, '0', deps === 0);

const tarball = path.join(scratch, pack.filename);
const npx: number[] = [];
for (let i = 0; i < 3; i++) {
	const cache = fs.mkdtempSync(path.join(scratch, 'cache-'));
	npx.push(time(['npx', '--yes', '--offline', '--cache', cache, '--package', tarball, 'mail-setup', '--version'], {npm_config_update_notifier: 'false'}));
}
row('npx tarball, empty cache, offline', `${ms(best(npx))}/${ms(median(npx))}`, '', undefined, '≤ 5 s', median(npx) <= 5000);

// The live checks, only when a configured server answers here (as after `npm run test:e2e` keeps one up,
// or on a real server): BENCH_CHECK_USER and MAIL_SETUP_TEST_PASSWORD name the test mailbox.
const listening = spawnSync('bash', ['-c', 'exec 3<>/dev/tcp/127.0.0.1/993'], {timeout: 2000}).status === 0;
if (listening && process.env.BENCH_CHECK_USER && process.env.MAIL_SETUP_TEST_PASSWORD) {
	const args = ['check', '--json', '--fqdn', process.env.BENCH_FQDN ?? 'mail.example.test', '--check-host', '127.0.0.1', '--test-user', process.env.BENCH_CHECK_USER];
	const checks = repeat(3, () => time([process.execPath, bin, ...args]));
	row('check run on loopback (8 checks)', `${ms(best(checks))}/${ms(median(checks))}`, '', undefined, '(measured)', true);
} else {
	rows.push(['check run on loopback', 'no server up here: not measured', '', '', '(see npm run test:e2e)', '']);
}

const widths = rows[0]!.map((_, i) => Math.max(...rows.map(r => r[i]!.length), ['what', 'mail-setup', 'baseline', 'ratio', 'target', ''][i]!.length));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`\n${os.cpus().length} cores, node ${process.version}, ${runs} runs each (best/median)\n`);
console.log(line(['what', 'mail-setup', 'baseline', 'ratio', 'target', '']));
for (const r of rows) console.log(line(r));
fs.rmSync(scratch, {recursive: true, force: true});
fs.rmSync(tree, {recursive: true, force: true});
process.exitCode = rows.every(r => r[5] !== 'NOT MET') ? 0 : 1;
