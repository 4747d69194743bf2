import assert from 'node:assert/strict';
import {test} from 'node:test';
import {validAddress, validate, validDbHost, validDnsServer, validDovecot, validFqdn, validIdentifier, validPassword, validSelector, withDefaults} from '../source/answers.ts';
import {UsageError} from '../source/types.ts';

test('FQDN: RFC 1123 labels, two or more, at most 253', () => {
	assert.equal(validFqdn('mail.example.com'), undefined);
	assert.equal(validFqdn('a-b.c1.example'), undefined);
	for (const bad of ['', 'localhost', '-mail.example.com', 'mail-.example.com', 'mail..example.com', 'mail.example.com.', `${'a'.repeat(64)}.com`, 'ma il.example.com', 'mail_x.example.com', `${'a.'.repeat(127)}com`]) {
		assert.ok(validFqdn(bad), `should refuse ${JSON.stringify(bad)}`);
	}
	assert.equal(validFqdn(`${'a'.repeat(63)}.com`), undefined);
});

test('addresses, identifiers, hosts, passwords', () => {
	assert.equal(validAddress('postmaster@example.com'), undefined);
	for (const bad of ['postmaster', '@example.com', 'a@b', 'a b@example.com', 'a@-x.com', '.a@example.com']) assert.ok(validAddress(bad), bad);
	assert.equal(validIdentifier('mail_server1'), undefined);
	for (const bad of ['', 'mail`server', "mail'x", 'a-b', 'x'.repeat(65)]) assert.ok(validIdentifier(bad), bad);
	for (const good of ['localhost', '127.0.0.1', 'db.example.com', '::1', 'db1']) assert.equal(validDbHost(good), undefined, good);
	for (const bad of ['', 'db host', 'db;rm', '-db']) assert.ok(validDbHost(bad), bad);
	assert.equal(validPassword(`p a'ss"w\\rd`), undefined);
	for (const bad of ['', ' lead', 'trail ', 'tab\there', 'é']) assert.ok(validPassword(bad), bad);
});

test('DKIM selector: DNS labels, nothing that leaves /etc/dkimkeys; DNS server: an address, an optional port', () => {
	for (const good of ['mail', 's2024', 'mail-1', 'eu.mail']) assert.equal(validSelector(good), undefined, good);
	for (const bad of ['', '../x', 'a/b', '.mail', 'mail.', 'ma il', '-x', 'x'.repeat(64)]) assert.ok(validSelector(bad), bad);
	for (const good of ['', '203.0.113.53', '2001:db8::53', '203.0.113.53:5353', '[2001:db8::53]:53']) assert.equal(validDnsServer(good), undefined, good);
	for (const bad of ['dns.example.com', '203.0.113.53:0', '203.0.113.53:70000', '2001:db8::53:53x', '1.2.3']) assert.ok(validDnsServer(bad), bad);
	assert.deepEqual([withDefaults({fqdn: 'mail.example.com'}).dkimSelector, withDefaults({fqdn: 'mail.example.com'}).dnsServer], ['mail', '']);
});

test('--dovecot accepts only 2.3 and 2.4', () => {
	assert.equal(validDovecot('2.4'), '2.4');
	assert.throws(() => validDovecot('2.5'), UsageError);
});

test('defaults follow the FQDN', () => {
	const a = withDefaults({fqdn: 'mail.example.com'});
	assert.equal(a.domain, 'example.com');
	assert.equal(a.postmaster, 'postmaster@example.com');
	assert.equal(a.testUser, 'test@example.com');
	assert.equal(a.checkHost, 'mail.example.com');
	assert.equal(a.cert, '/etc/ssl/certs/mail.example.com.crt');
	assert.equal(withDefaults({fqdn: 'mail.example.com', domain: 'other.org'}).postmaster, 'postmaster@other.org');
});

test('validate names the bad field and skips passwords not needed', () => {
	const a = withDefaults({fqdn: 'mail.example.com'});
	validate(a, {dbPassword: false, testPassword: false});
	assert.throws(() => validate(a, {dbPassword: true, testPassword: false}), (e: UsageError) => e.field === 'dbPassword' && /database password is empty/.test(e.message));
	assert.throws(() => validate({...a, dbName: 'x`y'}, {dbPassword: false, testPassword: false}), (e: UsageError) => e.field === 'dbName');
});
