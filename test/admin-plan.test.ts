// Day two, pure: the words of a command → a request; a snapshot + a request → SQL, or the refusal (exit 2).
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {listAliases, listDomains, listMailboxes, planChange, type ChangeRequest, type Snapshot} from '../source/admin/plan.ts';
import {parseRequest} from '../source/admin/request.ts';
import {parse} from '../source/args.ts';
import {UsageError} from '../source/types.ts';

const HASH = '$6$saltsaltsaltsalt$' + 'h'.repeat(86);

// Two served domains: alice and bob in a.test, sales → alice, team → sales and bob; b.test has nothing.
const snapshot: Snapshot = {
	domains: [
		{id: 1, name: 'a.test'},
		{id: 2, name: 'b.test'},
	],
	mailboxes: [
		{domainId: 1, email: 'alice@a.test'},
		{domainId: 1, email: 'bob@a.test'},
	],
	aliases: [
		{domainId: 1, source: 'sales@a.test', destination: 'alice@a.test'},
		{domainId: 1, source: 'team@a.test', destination: 'sales@a.test'},
		{domainId: 1, source: 'team@a.test', destination: 'bob@a.test'},
	],
};

const plan = (words: string[], input: {hash?: string; purgeMail?: boolean} = {hash: HASH}) =>
	planChange(snapshot, parseRequest(words) as ChangeRequest, {db: 'mailserver', ...input});

function refused(words: string[], pattern: RegExp): void {
	assert.throws(() => plan(words), (error: Error) => error instanceof UsageError && pattern.test(error.message), words.join(' '));
}

test('requests: nouns, verbs, operand counts, addresses lower-cased', () => {
	assert.deepEqual(parseRequest(['mailbox', 'add', 'Alice@A.Test']), {noun: 'mailbox', verb: 'add', address: 'alice@a.test'});
	assert.deepEqual(parseRequest(['alias', 'remove', 'sales@a.test']), {noun: 'alias', verb: 'remove', source: 'sales@a.test', destination: undefined});
	assert.deepEqual(parseRequest(['mailbox', 'list']), {noun: 'mailbox', verb: 'list', domain: undefined});
	assert.deepEqual(parseRequest(['mailbox']), {noun: 'mailbox', verb: 'screen'});
	assert.deepEqual(parseRequest(['domain', 'list']), {noun: 'domain', verb: 'list'});
	for (const words of [
		['alias'],
		['domain'],
		['mailbox', 'rename', 'a@a.test'],
		['mailbox', 'toString', 'a@a.test'],
		['mailbox', 'add'],
		['mailbox', 'add', 'a@a.test', 'b@a.test'],
		['alias', 'add', 'sales@a.test'],
		['domain', 'list', 'a.test'],
		['mailbox', 'add', 'alice'],
		['mailbox', 'add', 'al ice@a.test'],
		['mailbox', 'add', 'a/b@a.test'],
		['mailbox', 'add', '../x@a.test'],
		['alias', 'add', 'sales@a.test', 'nobody'],
		['domain', 'add', 'localhost'],
		['domain', 'add', `${'x'.repeat(47)}.test`],
		['mailbox', 'list', 'not a domain'],
	]) {
		assert.throws(() => parseRequest(words), UsageError, words.join(' '));
	}
});

test('flags: passwords never on the command line; --purge-mail and --password-file only where they mean something', () => {
	assert.throws(() => parse(['mailbox', 'add', 'a@a.test', '--password', 'pw']), /not accepted \(argv is visible/);
	assert.throws(() => parse(['mailbox', 'add', 'a@a.test', '--password=pw']), /not accepted/);
	assert.throws(() => parse(['mailbox', 'add', 'a@a.test', '--password-file=']), /--password-file is empty/);
	assert.throws(() => parse(['--purge-mail']), /--purge-mail goes with mailbox remove only/);
	assert.throws(() => parse(['mailbox', 'add', 'a@a.test', '--purge-mail']), /--purge-mail goes with mailbox remove only/);
	assert.throws(() => parse(['postfix', '--password-file', '/x']), /--password-file goes with mailbox add and mailbox passwd only/);
	assert.throws(() => parse(['alias', 'add', 'a@a.test', 'b@a.test', '--password-file', '/x']), /--password-file goes with/);
	const o = parse(['mailbox', 'remove', 'a@a.test', '--purge-mail', '--yes', '--json']);
	assert.deepEqual(o.admin, {noun: 'mailbox', verb: 'remove', address: 'a@a.test'});
	assert.equal(o.purgeMail, true);
	assert.deepEqual(o.stages, []);
});

test('domain add and remove: SQL with values as parameters; a domain with anything left is refused, counted', () => {
	const add = plan(['domain', 'add', 'C.test']);
	assert.deepEqual(
		add.statements.map(s => [s.sql, s.params]),
		[['INSERT INTO `mailserver`.virtual_domains (name) VALUES (?)', ['c.test']]],
	);
	assert.equal(add.statements[0]!.shown, "INSERT INTO `mailserver`.virtual_domains (name) VALUES ('c.test');");
	assert.equal(add.reverse, 'mail-setup domain remove c.test');
	refused(['domain', 'add', 'a.test'], /served already/);
	refused(['domain', 'remove', 'c.test'], /not served here/);
	refused(['domain', 'remove', 'a.test'], /still has 2 mailboxes and 3 aliases: remove them first/);
	assert.deepEqual(plan(['domain', 'remove', 'b.test']).statements.map(s => s.shown), ["DELETE FROM `mailserver`.virtual_domains WHERE name = 'b.test';"]);
});

test('mailbox add: the hash goes as a parameter and is shown as ***; refusals name the way out', () => {
	const add = plan(['mailbox', 'add', 'carol@a.test']);
	assert.deepEqual(add.statements[0]!.params, [1, 'carol@a.test', HASH]);
	assert.equal(add.statements[0]!.shown, "INSERT INTO `mailserver`.virtual_users (domain_id, email, password) VALUES (1, 'carol@a.test', '***');");
	const shown = JSON.stringify({...add, statements: add.statements.map(s => ({...s, params: []}))});
	assert.ok(!shown.includes('saltsalt'), 'the hash only in the parameters');
	assert.deepEqual(add.notes, ['its mail will be kept in /var/mail/a.test/carol']);
	assert.equal(add.reverse, 'mail-setup mailbox remove carol@a.test');
	refused(['mailbox', 'add', 'carol@c.test'], /domain c\.test, which this server does not serve: mail-setup domain add c\.test first/);
	refused(['mailbox', 'add', 'alice@a.test'], /exists already/);
	refused(['mailbox', 'add', 'sales@a.test'], /is an alias already \(to alice@a\.test\)/);
	assert.throws(() => plan(['mailbox', 'add', 'carol@a.test'], {}), /no password/);
});

test('mailbox passwd and remove: only existing mailboxes; remove takes its aliases along and says what now bounces', () => {
	const passwd = plan(['mailbox', 'passwd', 'alice@a.test']);
	assert.deepEqual(passwd.statements.map(s => s.shown), ["UPDATE `mailserver`.virtual_users SET password = '***' WHERE email = 'alice@a.test';"]);
	refused(['mailbox', 'passwd', 'carol@a.test'], /there is no mailbox carol@a\.test/);
	refused(['mailbox', 'remove', 'carol@a.test'], /there is no mailbox carol@a\.test/);

	const remove = plan(['mailbox', 'remove', 'alice@a.test'], {purgeMail: true});
	assert.deepEqual(remove.statements.map(s => s.shown), [
		"DELETE FROM `mailserver`.virtual_aliases WHERE source = 'sales@a.test' AND destination = 'alice@a.test';",
		"DELETE FROM `mailserver`.virtual_users WHERE email = 'alice@a.test';",
	]);
	assert.deepEqual(remove.maildir, {path: '/var/mail/a.test/alice', purge: true});
	assert.match(remove.notes.join('\n'), /removed with it: alias sales@a\.test → alice@a\.test/);
	// sales had only alice: team's route through it now bounces.
	assert.match(remove.notes.join('\n'), /now bounces: team@a\.test → sales@a\.test/);
	assert.match(remove.reverse, /mailbox add alice@a\.test .*alias add sales@a\.test alice@a\.test.*mail-setup undo/);
	assert.equal(plan(['mailbox', 'remove', 'bob@a.test']).maildir!.purge, false);
});

test('alias add: served source, no mailbox of that name, no duplicate, an existing local destination, no loop', () => {
	const add = plan(['alias', 'add', 'info@a.test', 'alice@a.test']);
	assert.deepEqual(add.statements.map(s => s.shown), ["INSERT INTO `mailserver`.virtual_aliases (domain_id, source, destination) VALUES (1, 'info@a.test', 'alice@a.test');"]);
	assert.equal(add.reverse, 'mail-setup alias remove info@a.test alice@a.test');
	assert.match(plan(['alias', 'add', 'sales@a.test', 'bob@a.test']).notes.join('\n'), /also goes to alice@a\.test/);
	assert.match(plan(['alias', 'add', 'info@a.test', 'someone@elsewhere.example']).notes.join('\n'), /on another server/);
	refused(['alias', 'add', 'info@c.test', 'alice@a.test'], /does not serve: mail-setup domain add c\.test first/);
	refused(['alias', 'add', 'info@a.test', 'info@a.test'], /cannot point to itself/);
	refused(['alias', 'add', 'alice@a.test', 'bob@a.test'], /is a mailbox/);
	refused(['alias', 'add', 'sales@a.test', 'alice@a.test'], /exists already/);
	refused(['alias', 'add', 'info@a.test', 'nobody@a.test'], /neither a mailbox nor an alias here/);
	refused(['alias', 'add', 'sales@a.test', 'team@a.test'], /would loop: sales@a\.test → team@a\.test → sales@a\.test/);
});

test('alias remove: one pair or all of a source; what is not there is refused', () => {
	assert.deepEqual(plan(['alias', 'remove', 'team@a.test']).statements.map(s => s.shown), ["DELETE FROM `mailserver`.virtual_aliases WHERE source = 'team@a.test';"]);
	const one = plan(['alias', 'remove', 'team@a.test', 'bob@a.test']);
	assert.deepEqual(one.statements.map(s => s.shown), ["DELETE FROM `mailserver`.virtual_aliases WHERE source = 'team@a.test' AND destination = 'bob@a.test';"]);
	assert.equal(one.reverse, 'mail-setup alias add team@a.test bob@a.test');
	assert.match(plan(['alias', 'remove', 'sales@a.test']).notes.join('\n'), /now bounces: team@a\.test → sales@a\.test/);
	refused(['alias', 'remove', 'info@a.test'], /there is no alias info@a\.test/);
	refused(['alias', 'remove', 'team@a.test', 'alice@a.test'], /there is no alias team@a\.test → alice@a\.test/);
});

test('lists: sorted, filtered by a served domain, mail directories named', () => {
	assert.deepEqual(listMailboxes(snapshot), [
		{address: 'alice@a.test', domain: 'a.test', maildir: '/var/mail/a.test/alice'},
		{address: 'bob@a.test', domain: 'a.test', maildir: '/var/mail/a.test/bob'},
	]);
	assert.deepEqual(listMailboxes(snapshot, 'b.test'), []);
	assert.deepEqual(listAliases(snapshot, 'a.test').map(a => `${a.source}>${a.destination}`), ['sales@a.test>alice@a.test', 'team@a.test>bob@a.test', 'team@a.test>sales@a.test']);
	assert.deepEqual(listDomains(snapshot), [
		{name: 'a.test', mailboxes: 2, aliases: 3},
		{name: 'b.test', mailboxes: 0, aliases: 0},
	]);
	assert.throws(() => listMailboxes(snapshot, 'c.test'), /not served here/);
});
