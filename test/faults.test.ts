// Fault injection at the Host boundary: fail the Nth write / fsync / rename / chmod of a full run,
// for every N, and prove every file is as some stage boundary left it (never torn, the failing
// stage's own writes put back), the validators accept the tree, and undo returns it to the start byte for byte.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {before, test} from 'node:test';
import {withDefaults} from '../source/answers.ts';
import {Host} from '../source/host/host.ts';
import {undoLastRun} from '../source/host/journal.ts';
import {runStages} from '../source/run.ts';
import {makePair} from '../source/stages/certificate.ts';
import {stagesFor} from '../source/stages/index.ts';
import {inRootSync} from './helpers/roots.ts';
import {makeStockTree} from './helpers/stock.ts';
import {copyTree} from './helpers/tree.ts';

const answers = withDefaults({fqdn: 'mail.example.test', dbPassword: "db p'ass\"1 x"});
const ids = ['dovecot-sql', 'permissions', 'dovecot-master', 'lda', 'certificate', 'dovecot-ssl', 'postfix', 'submission'] as const;

/** path → "mode uid:gid content" for every file and directory. */
function snapshot(dir: string): Map<string, string> {
	const out = new Map<string, string>();
	const walk = (d: string) => {
		for (const name of fs.readdirSync(d)) {
			const p = path.join(d, name);
			const rel = path.relative(dir, p);
			if (rel.startsWith('var/backups')) continue;
			const s = fs.lstatSync(p);
			out.set(rel, `${s.mode.toString(8)} ${s.uid}:${s.gid} ${s.isFile() ? fs.readFileSync(p, 'utf8') : ''}`);
			if (s.isDirectory()) walk(p);
		}
	};
	walk(dir);
	return out;
}


function validatorsAccept(root: string, label: string) {
	// postconf pauses 2 s on files changed within the last second: age them first.
	const hourAgo = new Date(Date.now() - 3_600_000);
	for (const name of fs.readdirSync(path.join(root, 'etc/postfix'))) fs.lutimesSync(path.join(root, 'etc/postfix', name), hourAgo, hourAgo);
	// Both of Debian 12's validators in one go (exit 10: doveconf refused the tree).
	const script = 'doveconf -n -c "$1" >/dev/null || exit 10; exec postconf -c "$2" -n >/dev/null';
	const run = inRootSync(12, ['sh', '-c', script, 'sh', path.join(root, 'etc/dovecot/dovecot.conf'), path.join(root, 'etc/postfix')], {binds: [root]});
	assert.notEqual(run.exitCode, 10, `${label}: doveconf: ${run.stderr}`);
	assert.equal(run.exitCode, 0, `${label}: postconf failed: ${run.stderr}`);
	// Map files sit at absolute paths outside the tree; anything else is a real complaint.
	assert.deepEqual(run.stderr.split('\n').filter(line => line && !line.includes('No such file or directory')), [], label);
}

let template: string;
let start: Map<string, string>;
/** Every state each file had at a stage boundary of a clean run: a fault may stop at any of them. */
const states = new Map<string, Set<string>>();
const remember = (snap: Map<string, string>) => {
	for (const [file, state] of snap) states.set(file, (states.get(file) ?? new Set()).add(state));
};
let effects: string[] = [];

before(async () => {
	template = await makeStockTree(12);
	// One pair made up front: the certificate stage writes it like any file, without a 1 s key per run.
	const pair = await makePair(answers.fqdn);
	const certificate = stagesFor(['certificate'])[0]!;
	certificate.plan = async () => ({
		files: [
			{path: answers.key, content: pair.key, mode: 0o600, owner: 'root', group: 'root', secret: true},
			{path: answers.cert, content: pair.cert, mode: 0o644, owner: 'root', group: 'root'},
		],
		commands: [],
		notes: [],
	});
	// The validators run on the tree after each fault below; per stage they would only add minutes.
	for (const stage of stagesFor([...ids])) delete stage.validate;
	start = snapshot(template);
	const clean = copyTree(template);
	const host = new Host({root: clean, fault: (op, detail) => void effects.push(`${op} ${detail}`)});
	remember(start);
	const report = await runStages(stagesFor([...ids]), {answers, host}, {onResult: () => remember(snapshot(clean))});
	assert.ok(report.ok, JSON.stringify(report.stages.filter(s => s.status !== 'pass')));
});

test('every injected fault leaves each file old or new, a valid tree, and a full undo', async t => {
	assert.ok(effects.length > 40, `a full run has many effects (${effects.length})`);
	for (let n = 0; n < effects.length; n++) {
		const root = copyTree(template);
		let count = 0;
		const host = new Host({
			root,
			fault(op, detail) {
				if (count++ === n) throw new Error(`injected fault at ${op} ${detail}`);
			},
		});
		const report = await runStages(stagesFor([...ids]), {answers, host});
		assert.equal(report.ok, false, `fault ${n} (${effects[n]}) must fail the run`);
		const failed = report.stages.find(s => s.status === 'fail')!;
		assert.match(failed.message, /injected fault/);
		const now = snapshot(root);
		for (const [file, state] of now) {
			assert.ok(states.get(file)?.has(state), `fault ${n} (${effects[n]}): ${file} is torn: in no state a stage boundary had`);
		}
		assert.ok(![...now.keys()].some(file => file.includes('.mail-setup-')), `fault ${n}: temp file left`);
		validatorsAccept(root, `fault ${n} (${effects[n]})`);
		await undoLastRun(path.join(root, 'var/backups/mail-setup'));
		assert.deepEqual(snapshot(root), start, `fault ${n} (${effects[n]}): undo returns to the start`);
		fs.rmSync(root, {recursive: true, force: true});
	}
	t.diagnostic(`${effects.length} fault points injected (${[...new Set(effects.map(e => e.split(' ')[0]))].join(', ')}), all recovered`);
});
