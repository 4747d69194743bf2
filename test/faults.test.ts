// Fault injection at the Host boundary: fail the Nth write / fsync / rename / chmod of a full run,
// for every N, and prove every file is old or new (never torn), the validators accept the tree,
// and undo returns it to the start byte for byte.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {before, test} from 'node:test';
import {withDefaults} from '../source/answers.ts';
import {Host} from '../source/host/host.ts';
import {undoLastRun} from '../source/host/journal.ts';
import {runStages} from '../source/run.ts';
import {makePair} from '../source/stages/certificate.ts';
import {stagesFor} from '../source/stages/index.ts';
import {makeStockTree} from './helpers/stock.ts';

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

function copy(tree: string): string {
	const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'faults-'));
	execFileSync('cp', ['-a', `${tree}/.`, dest]);
	return dest;
}

function validatorsAccept(root: string) {
	execFileSync('doveconf', ['-n', '-c', path.join(root, 'etc/dovecot/dovecot.conf')], {stdio: 'pipe'});
	const warnings = execFileSync('postconf', ['-c', path.join(root, 'etc/postfix'), '-n'], {stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8'});
	assert.equal(warnings, '');
}

let template: string;
let start: Map<string, string>;
let end: Map<string, string>;
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
	start = snapshot(template);
	const clean = copy(template);
	const host = new Host({root: clean, fault: (op, detail) => void effects.push(`${op} ${detail}`)});
	const report = await runStages(stagesFor([...ids]), {answers, host});
	assert.ok(report.ok, JSON.stringify(report.stages.filter(s => s.status !== 'pass')));
	end = snapshot(clean);
});

test('every injected fault leaves each file old or new, a valid tree, and a full undo', async () => {
	assert.ok(effects.length > 40, `a full run has many effects (${effects.length})`);
	for (let n = 0; n < effects.length; n++) {
		const root = copy(template);
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
			assert.ok(state === start.get(file) || state === end.get(file), `fault ${n} (${effects[n]}): ${file} is neither old nor new`);
		}
		assert.ok(![...now.keys()].some(file => file.includes('.mail-setup-')), `fault ${n}: temp file left`);
		validatorsAccept(root);
		await undoLastRun(path.join(root, 'var/backups/mail-setup'));
		assert.deepEqual(snapshot(root), start, `fault ${n} (${effects[n]}): undo returns to the start`);
		fs.rmSync(root, {recursive: true, force: true});
	}
});
