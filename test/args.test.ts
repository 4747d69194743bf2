import assert from 'node:assert/strict';
import {test} from 'node:test';
import {parse} from '../source/args.ts';
import {UsageError} from '../source/types.ts';

test('stages and flags', () => {
	const o = parse(['certificate', 'dovecot-ssl', '--dry-run', '--root', '/tmp/x', '-y', '--fqdn', 'mail.example.com', '--db-create']);
	assert.deepEqual(o.stages, ['certificate', 'dovecot-ssl']);
	assert.equal(o.dryRun, true);
	assert.equal(o.root, '/tmp/x');
	assert.equal(o.yes, true);
	assert.equal(o.dbCreate, true);
	assert.equal(o.values.fqdn, 'mail.example.com');
	assert.equal(parse(['undo']).undo, true);
});

test('bad usage is a UsageError', () => {
	for (const argv of [['nosuchstage'], ['--nosuchflag'], ['--db-password', 'x'], ['--test-password=x'], ['undo', 'database'], ['--fqdn'], ['--fqdn', 'a\nb']]) {
		assert.throws(() => parse(argv), UsageError, argv.join(' '));
	}
});

test('a password flag is refused without echoing it', () => {
	assert.throws(() => parse(['--db-password', 'hunter2']), (e: Error) => !e.message.includes('hunter2') && /--db-password-file/.test(e.message));
});

test('every option given with an empty value is refused by name, never replaced by its default', () => {
	const flags = ['fqdn', 'domain', 'postmaster', 'db-host', 'db-name', 'db-user', 'db-password-file', 'test-user', 'test-password-file', 'check-host', 'dovecot', 'cert', 'key', 'root'];
	for (const flag of flags) {
		for (const argv of [[`--${flag}=`], [`--${flag}`, '']]) {
			assert.throws(
				() => parse(['--dry-run', ...argv]),
				(e: Error) => e instanceof UsageError && e.message.startsWith(`--${flag} is empty`) && (e as UsageError).field === flag,
				argv.join(' '),
			);
		}
	}
	// A value that is only blank is not empty: the field's own check judges it.
	assert.equal(parse(['--db-user', ' ']).values['db-user'], ' ');
});
