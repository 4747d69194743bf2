// The masking rule: by structure where the program knows a secret stands, never by searching all text.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {withDefaults} from '../source/answers.ts';
import {Host} from '../source/host/host.ts';
import {runStages} from '../source/run.ts';
import {MASK, maskDiff, maskLine, maskText, SCRUB_MIN_LENGTH, scrub} from '../source/secrets.ts';
import {quote} from '../source/stages/dovecot.ts';
import {stagesFor} from '../source/stages/index.ts';
import type {Stage} from '../source/stages/stage.ts';
import {tempDir} from './helpers/proc.ts';
import {makeStockTree} from './helpers/stock.ts';

test('a password setting masks its whole value; other keys, comments and empty values stay', () => {
	assert.equal(maskLine('password = s3cret'), 'password = ***');
	assert.equal(maskLine('  password = "a b \\" c"'), '  password = ***');
	assert.equal(maskLine('password=x'), 'password=***');
	assert.equal(maskLine('db_password = x'), 'db_password = ***');
	assert.equal(maskLine('password = '), 'password = ', 'an empty value stays one line, unmasked');
	assert.equal(maskLine('password ='), 'password =');
	for (const line of [
		"password_query = SELECT email as user, password FROM virtual_users WHERE email='%u';",
		'  default_password_scheme = SHA512-CRYPT',
		'passdb_default_password_scheme = SHA512-CRYPT',
		'#password = example',
		'#connect = host=sql.example.com dbname=virtual user=virtual password=blarg',
		'uid=mail gid=mail home=/var/mail/%d/%n',
	]) {
		assert.equal(maskLine(line), line);
	}
});

test("a connect string's password= field is masked up to the next space", () => {
	assert.equal(maskLine('connect = host=localhost dbname=mail user=mail password=x%u'), 'connect = host=localhost dbname=mail user=mail password=***');
	assert.equal(maskLine('connect = password=abc host=h'), 'connect = password=*** host=h');
	assert.equal(maskLine('connect = host=h password='), 'connect = host=h password=', 'empty: nothing to mask');
	assert.equal(maskLine('option_file=/etc/dovecot/x.cnf'), 'option_file=/etc/dovecot/x.cnf');
});

const KEY = '-----BEGIN PRIVATE KEY-----\nMIIJQgIBADANBgkqhkiG9w0BAQEFAASCCSww\nggkoAgEAAoICAQC7\n-----END PRIVATE KEY-----\n';
const OTHER_KEY = '-----BEGIN RSA PRIVATE KEY-----\nMIIJKAIBAAKCAgEA0\n-----END RSA PRIVATE KEY-----\n';

test('a private key is one line with its size, in text and in a diff', () => {
	assert.equal(maskText(`before\n${KEY}after`), `before\n(private key, ${KEY.length - 1} bytes)\nafter`);
	const created = maskDiff(`--- /dev/null\n+++ b/etc/ssl/private/k.key\n@@ -0,0 +1,4 @@\n${KEY.trimEnd().replace(/^/gm, '+')}\n`, undefined, KEY);
	assert.equal(created, `--- /dev/null\n+++ b/etc/ssl/private/k.key\n+(private key, ${KEY.length} bytes)\n`);
	// A new key for an old one: the BEGIN/END lines are common to both, the diff shows each side whole.
	const replaced = maskDiff('--- a/k\n+++ b/k\n@@ -1,3 +1,3 @@\n -----BEGIN PRIVATE KEY-----\n-MIIJ\n+MIIK\n -----END PRIVATE KEY-----\n', KEY, OTHER_KEY);
	assert.equal(replaced, `--- a/k\n+++ b/k\n-(private key, ${KEY.length} bytes)\n+(private key, ${OTHER_KEY.length} bytes)\n`);
	assert.ok(!replaced.includes('MII'));
});

test('scrub: structure always, the exact text only of secrets of 8 characters or more', () => {
	assert.equal(SCRUB_MIN_LENGTH, 8);
	assert.equal(scrub('doveconf: line 3: password = x', ['x']), 'doveconf: line 3: password = ***');
	assert.equal(scrub('Error: password = "a b" is odd', []), 'Error: password = *** is odd');
	assert.equal(scrub('Unknown database mailserver on example.com', ['x', 'mail', 'dovecot', '%u', '']), 'Unknown database mailserver on example.com');
	assert.equal(scrub('server said: long-secret-9 and long-secret-9x', ['long-secret-9', 'long-secret-9x']), 'server said: *** and ***');
	assert.equal(scrub('nothing', [undefined, '']), 'nothing');
});

// ---- the dry-run diffs of the stock Debian trees ----

const fileStages = stagesFor(['dovecot-sql', 'permissions', 'dovecot-master', 'lda', 'certificate', 'dovecot-ssl', 'postfix', 'submission']);
const SECRETS = ['x', 'mail', 'dovecot', '%u', '***', `p a'ss"1 x`, ''];

/** The same stages with no file marked secret: the diffs as they would be with no masking at all. */
const unmaskedStages = (stages: Stage[]): Stage[] =>
	stages.map(stage => ({...stage, plan: async ctx => {
		const plan = await stage.plan(ctx);
		return {...plan, files: plan.files.map(file => ({...file, secret: false}))};
	}}));

/** The diffs of a dry run on the stock tree at root (a dry run writes nothing: one tree serves every run). */
async function dryRunDiffs(root: string, release: 12 | 13, dbPassword: string, stages: Stage[]): Promise<string[]> {
	const answers = withDefaults({fqdn: 'mail.example.org', dbPassword, testPassword: dbPassword, dovecot: release === 12 ? '2.3' : '2.4'});
	const report = await runStages(stages, {answers, host: new Host({root, dryRun: true})});
	assert.ok(report.ok, JSON.stringify(report.stages.map(s => [s.id, s.message])));
	return report.stages.flatMap(stage => stage.changes.map(change => change.diff));
}

/** How a password stands in the files the stages write: as is, Dovecot-quoted, or option-file quoted. */
const writtenForms = (secret: string) => [...new Set([secret, quote(secret), `"${secret.replace(/[\\"]/g, '\\$&')}"`])].filter(Boolean);

for (const release of [12, 13] as const) {
	test(`Debian ${release} stock tree: masks stand only where a password does, everything else intact`, async () => {
		const root = await makeStockTree(release, tempDir(`stock${release}`));
		for (const secret of SECRETS) {
			const label = `${JSON.stringify(secret)}`;
			const masked = await dryRunDiffs(root, release, secret, fileStages);
			const plain = await dryRunDiffs(root, release, secret, unmaskedStages(fileStages));
			assert.equal(masked.length, plain.length, label);
			let masks = 0;
			masked.forEach((diff, i) => {
				const lines = diff.split('\n');
				const raw = plain[i]!.split('\n');
				assert.equal(lines.length, raw.length, `${label}: a mask never adds or removes a line\n${diff}`);
				lines.forEach((line, j) => {
					assert.notEqual(line.replace(/^[ +-]/, '').trim(), MASK, `${label}: no line holds only the mask`);
					if (line === raw[j]) return;
					masks++;
					// The one difference: the password's written form became the mask, on a line that sets a password.
					assert.match(raw[j]!, /password ?=/, `${label}: masked a line that carries no password: ${raw[j]}`);
					assert.ok(writtenForms(secret).some(form => line.replace(MASK, form) === raw[j]), `${label}: ${raw[j]} → ${line}`);
				});
			});
			const all = masked.join('\n');
			// Where the stages write the password, found without the rule under test.
			const carries = (line: string) =>
				!/^[ +-]\s*#/.test(line) && writtenForms(secret).some(form => line.endsWith(`password = ${form}`) || line.endsWith(`password=${form}`) || line.includes(`password=${form} `));
			const expected = plain.join('\n').split('\n').filter(carries).length;
			if (secret === '') {
				// Only Dovecot 2.4's quoted "" is a value to mask; the maps' bare `password = ` keeps its one line.
				assert.equal(masks, expected, 'only a written value is masked');
				assert.match(all, /^\+password = $/m, 'an empty password stays on its line');
			} else if (secret !== MASK) {
				assert.ok(expected >= 4, `${label}: the SQL config and the three Postfix maps hold it (${expected})`);
				assert.equal(masks, expected, `${label}: every line that carries the password is masked, no other`);
				assert.notEqual(all, plain.join('\n').split(secret).join(MASK), `${label}: not what a text search of the secret gives`);
			}
			// File names and the settings around the passwords, as written.
			assert.match(all, /^\+\+\+ b\/etc\/dovecot\/conf\.d\/auth-sql\.conf\.ext$/m, label);
			assert.match(all, /^\+\+\+ b\/etc\/postfix\/mysql-virtual-mailbox-maps\.cf$/m, label);
			assert.match(all, release === 12 ? /^\+  args = uid=mail gid=mail home=\/var\/mail\/%d\/%n$/m : /^\+    home = \/var\/mail\/%\{user \| domain\}\/%\{user \| username\}$/m, label);
		}
	});
}
