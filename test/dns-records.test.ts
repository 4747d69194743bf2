// The records to publish, as data and as zone-file lines.
import assert from 'node:assert/strict';
import {createPublicKey} from 'node:crypto';
import {test} from 'node:test';
import {addressKey} from '../source/net/addresses.ts';
import {recordsFor, reverseName, txtStrings, zoneLine} from '../source/dns/records.ts';
import {dkimPublicKey, makeDkimKey} from '../source/stages/dkim.ts';

const facts = {domain: 'example.test', fqdn: 'mail.example.test', postmaster: 'postmaster@example.test', selector: 'mail'};

test('every record, in order, with absolute names in the zone-file lines', async () => {
	const key = dkimPublicKey(await makeDkimKey())!;
	const records = recordsFor({...facts, addresses: ['203.0.113.2', '2001:db8::2'], dkimKey: key});
	assert.deepEqual(
		records.map(r => [r.type, r.name, r.status]),
		[
			['MX', 'example.test', 'unchecked'],
			['A', 'mail.example.test', 'unchecked'],
			['AAAA', 'mail.example.test', 'unchecked'],
			['TXT', 'example.test', 'unchecked'],
			['TXT', 'mail._domainkey.example.test', 'unchecked'],
			['TXT', '_dmarc.example.test', 'unchecked'],
			['PTR', '2.113.0.203.in-addr.arpa', 'unchecked'],
			['PTR', '2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa', 'unchecked'],
		],
	);
	const lines = records.map(zoneLine);
	assert.equal(lines[0], 'example.test. IN MX 10 mail.example.test.');
	assert.equal(lines[1], 'mail.example.test. IN A 203.0.113.2');
	assert.equal(lines[2], 'mail.example.test. IN AAAA 2001:db8::2');
	assert.equal(lines[3], 'example.test. IN TXT "v=spf1 mx a:mail.example.test -all"');
	assert.equal(lines[5], '_dmarc.example.test. IN TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.test"');
	assert.equal(lines[6], '2.113.0.203.in-addr.arpa. IN PTR mail.example.test.');

	// A 2048-bit key does not fit one TXT string: split at 255 bytes, and the strings joined are the record.
	const dkim = lines[4]!.match(/^mail\._domainkey\.example\.test\. IN TXT ((?:"[^"]*" ?)+)$/)?.[1];
	assert.ok(dkim, lines[4]);
	const strings = [...dkim.matchAll(/"([^"]*)"/g)].map(m => m[1]!);
	assert.equal(strings.length, 2);
	assert.equal(strings[0]!.length, 255);
	assert.equal(strings.join(''), `v=DKIM1; k=rsa; p=${key}`);
	const published = createPublicKey({key: Buffer.from(strings.join('').split('p=')[1]!, 'base64'), format: 'der', type: 'spki'});
	assert.equal(published.asymmetricKeyDetails?.modulusLength, 2048);
});

test('without a known address or key: no A record, no DKIM record, a PTR that says what to ask for', () => {
	const records = recordsFor({...facts, addresses: []});
	assert.deepEqual(
		records.map(r => r.type),
		['MX', 'TXT', 'TXT', 'PTR'],
	);
	assert.equal(zoneLine(records.at(-1)!), "<the server's address, reversed>. IN PTR mail.example.test.");
});

test('TXT strings: at most 255 bytes each, quotes and backslashes escaped', () => {
	assert.deepEqual(txtStrings(''), ['""']);
	assert.deepEqual(txtStrings('a"b\\c'), ['"a\\"b\\\\c"']);
	const long = 'x'.repeat(600);
	assert.deepEqual(
		txtStrings(long).map(s => s.length - 2),
		[255, 255, 90],
	);
});

test('reverse names and one spelling per address', () => {
	assert.equal(reverseName('192.0.2.10'), '10.2.0.192.in-addr.arpa');
	assert.equal(reverseName('2001:db8::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
	// An IPv4-mapped address is an IPv4 client: receivers look its PTR up under in-addr.arpa.
	assert.equal(reverseName('::ffff:192.0.2.1'), '1.2.0.192.in-addr.arpa');
	assert.equal(addressKey('2001:DB8:0:0::1'), addressKey('2001:db8::0:1'));
	assert.equal(addressKey('::ffff:203.0.113.2'), addressKey('203.0.113.2'));
	assert.notEqual(addressKey('2001:db8::1'), addressKey('2001:db8::2'));
});
