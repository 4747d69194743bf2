// npm run bench: start-up, planning, key generation and day-two speed against their baselines, measured in one run;
// with BENCH_SERVER=12|13 also the live checks against a booted server.
import {execFileSync, spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {makePair} from '../../source/stages/certificate.ts';
import {makeDkimKey} from '../../source/stages/dkim.ts';
import {configuredLab, expectChecks, FILE_STAGES, laptopCheck, TEST_PASSWORD, writeFile} from '../e2e/lib.ts';
import {adminDb, DB} from '../helpers/admin.ts';
import {FQDN, type Release} from '../helpers/server.ts';
import {makeStockTree} from '../helpers/stock.ts';

const bin = path.resolve('bin/mail-setup.js');
const runs = Number(process.env.BENCH_RUNS ?? 7);
const version = JSON.parse(fs.readFileSync('package.json', 'utf8')).version as string;

/** Runs argv once and returns its stdout; throws unless it exits 0 (a row must time work that succeeds). */
function output(argv: string[]): string {
	const run = spawnSync(argv[0]!, argv.slice(1), {encoding: 'utf8', env: {...process.env, CI: '1'}});
	if (run.status !== 0) throw new Error(`${argv.join(' ')} exited ${run.status}: ${run.stderr}`);
	return run.stdout;
}

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

/** Time until `marker` (a frame's first line) reaches a terminal (a pty made by script(1)). */
function firstFrame(command: string, marker: string): Promise<number> {
	return new Promise((resolve, reject) => {
		const start = process.hrtime.bigint();
		const child = spawn('script', ['-qfec', command, '/dev/null'], {
			// Not CI='' : ink treats a CI variable of any value as "render only the last frame".
			env: {...withoutCI(), TERM: 'xterm-256color', COLUMNS: '100', LINES: '30'},
			stdio: ['ignore', 'pipe', 'ignore'],
		});
		let seen = '';
		child.stdout.setEncoding('utf8'); // a character split between reads stays whole
		const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error('no frame within 10 s'))), 10_000);
		child.stdout.on('data', (chunk: string) => {
			seen += chunk;
			if (seen.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '').includes(marker)) {
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

// A stock Debian 12 tree with OpenDKIM, so that every file stage plans its changes (none is skipped).
const tree = await makeStockTree(12, undefined, {opendkim: true});
const planArgv = [process.execPath, bin, '--dry-run', '--json', '--root', tree, '--fqdn', FQDN, ...FILE_STAGES];
const planned = (JSON.parse(output(planArgv)).stages as {id: string; status: string; changes: unknown[]}[]).map(stage => `${stage.id} ${stage.status} ${stage.changes.length > 0}`);
if (planned.join(', ') !== FILE_STAGES.map(id => `${id} planned true`).join(', ')) throw new Error(`the dry run does not plan every file stage: ${planned.join(', ')}`);
const plan = repeat(runs, () => time(planArgv));
row('dry-run plan, all file stages', `${ms(best(plan))}/${ms(median(plan))}`, `node -e 0 ${ms(nodeMedian)}`, median(plan) / nodeMedian, '≤ 6×', median(plan) / nodeMedian <= 6);

// Both through the same pty (script(1)), so the baseline pays the same terminal set-up.
const frames: number[] = [];
const bare: number[] = [];
for (let i = 0; i < runs; i++) {
	// The TUI's header, which no error message carries; the baseline prints the same line.
	const header = `mail-setup ${version} · dry run`;
	frames.push(await firstFrame(`${process.execPath} ${bin} --dry-run --root ${tree} --fqdn ${FQDN}`, header));
	bare.push(await firstFrame(`${process.execPath} -e "console.log('${header}')"`, header));
}
row('first TUI frame (in a pty)', `${ms(best(frames))}/${ms(median(frames))}`, `node -e 0 in a pty ${ms(median(bare))}`, median(frames) / median(bare), '≤ 4×', median(frames) / median(bare) <= 4);

const certRuns = Math.max(3, Math.ceil(runs / 2));
const forge: number[] = [];
const openssl: number[] = [];
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
for (let i = 0; i < certRuns; i++) {
	// Interleaved so that load on the machine hits both alike; prime search is random, so medians.
	forge.push(await timeAsync(() => makePair(FQDN)));
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
const listArgv = [process.execPath, bin, 'mailbox', 'list', '--root', mailTree];
if (!output(listArgv).includes('test@example.test')) throw new Error('mailbox list does not show the database\'s mailbox');
const lists = repeat(runs, () => time(listArgv));
row('mailbox list (best/median)', `${ms(best(lists))}/${ms(median(lists))}`, `node -e 0 ${ms(nodeMedian)}`, median(lists) / nodeMedian, '≤ 6×', median(lists) / nodeMedian <= 6);
let added = 0;
const adds = repeat(runs, () => time([process.execPath, bin, 'mailbox', 'add', `bench${added++}@example.test`, '--password-file', path.join(scratch, 'mailbox-pw'), '--root', mailTree]));
const stored = await mail.query(`SELECT COUNT(*) AS n FROM ${DB}.virtual_users WHERE email LIKE 'bench%' AND password LIKE '$6$%'`);
if (Number(stored[0]!.n) !== runs) throw new Error(`mailbox add stored ${stored[0]!.n} of ${runs} mailboxes`);
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

// The live checks as a person runs them: `mail-setup check` from a laptop against a server the wizard set up.
// BENCH_SERVER=12 or 13 boots that server on a test network (root, and the roots of test/setup/roots.sh).
const release = process.env.BENCH_SERVER;
if (release === '12' || release === '13') {
	const l = await configuredLab(Number(release) as Release);
	try {
		const passwordFile = writeFile(path.join(l.laptop.homeOf('nobody'), 'test-password'), `${TEST_PASSWORD}\n`, 'nobody');
		const checks: number[] = [];
		let count = 0;
		for (let i = 0; i < 3; i++) {
			let result: Awaited<ReturnType<typeof laptopCheck>> | undefined;
			checks.push(await timeAsync(async () => (result = await laptopCheck(l, passwordFile))));
			expectChecks(result!, 0); // every check passes (the DNS ones are inconclusive: the network has no resolver)
			count = result!.doc.checks.length;
		}
		row(`check from a laptop (Debian ${release}, ${count} checks)`, `${ms(best(checks))}/${ms(median(checks))}`, '', undefined, '(measured)', true);
	} finally {
		await l.net.close();
	}
} else {
	rows.push(['check from a laptop', 'not measured', '', '', '(BENCH_SERVER=12|13)', '']);
}

const widths = rows[0]!.map((_, i) => Math.max(...rows.map(r => r[i]!.length), ['what', 'mail-setup', 'baseline', 'ratio', 'target', ''][i]!.length));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`\n${os.cpus().length} cores, node ${process.version}, ${runs} runs each (best/median)\n`);
console.log(line(['what', 'mail-setup', 'baseline', 'ratio', 'target', '']));
for (const r of rows) console.log(line(r));
fs.rmSync(scratch, {recursive: true, force: true});
fs.rmSync(tree, {recursive: true, force: true});
process.exitCode = rows.every(r => r[5] !== 'NOT MET') ? 0 : 1;
