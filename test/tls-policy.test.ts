// What "at least as strict" means for each TLS setting (source/tls.ts).
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {CIPHER_LIST, cipherList, dovecotMinProtocol, excludedCiphers, postfixProtocolList, postfixProtocols} from '../source/tls.ts';

test('cipher lists: a subset of the intermediate suites stays, anything else becomes the intermediate list', () => {
	assert.equal(cipherList(undefined), CIPHER_LIST);
	assert.equal(cipherList(''), CIPHER_LIST);
	assert.equal(cipherList('ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305'), 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305');
	assert.equal(cipherList(CIPHER_LIST.split(':').reverse().join(':')), CIPHER_LIST.split(':').reverse().join(':'), 'order is the operator\'s');
	// Debian's default: keywords cannot be proven stricter.
	assert.equal(cipherList('ALL:!kRSA:!SRP:!kDHd:!DSS:!aNULL:!eNULL:!EXPORT:!DES:!3DES:!MD5:!PSK:!RC4:!ADH:!LOW@STRENGTH'), CIPHER_LIST);
	assert.equal(cipherList('ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-SHA384'), CIPHER_LIST, 'one CBC suite makes it looser');
	assert.equal(cipherList('aNULL:-aNULL:HIGH:@STRENGTH'), CIPHER_LIST, "Postfix's default high list");
});

test('Dovecot ssl_min_protocol: TLSv1.2 unless the floor is already higher', () => {
	for (const loose of [undefined, '', 'ANY', 'SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'nonsense']) assert.equal(dovecotMinProtocol(loose), 'TLSv1.2', String(loose));
	assert.equal(dovecotMinProtocol('TLSv1.3'), 'TLSv1.3');
	assert.equal(dovecotMinProtocol('LATEST'), 'LATEST');
});

test('Postfix protocol lists are read as Postfix does', () => {
	const all = ['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
	assert.deepEqual(postfixProtocols(''), all);
	assert.deepEqual(postfixProtocols('>=TLSv1'), ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']);
	assert.deepEqual(postfixProtocols('!SSLv2, !SSLv3, !TLSv1, !TLSv1.1'), ['TLSv1.2', 'TLSv1.3']);
	assert.deepEqual(postfixProtocols('!SSLv2:!SSLv3'), ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']);
	assert.deepEqual(postfixProtocols('TLSv1.2 TLSv1.3'), ['TLSv1.2', 'TLSv1.3']);
	assert.deepEqual(postfixProtocols('>=TLSv1.1, <=TLSv1.2'), ['TLSv1.1', 'TLSv1.2']);
	assert.equal(postfixProtocols('>=TLSv9'), undefined);
});

test('Postfix protocol settings: only a list enabling nothing below the floor stays', () => {
	// Mandatory TLS (587): TLS 1.2 and up.
	for (const loose of [undefined, '', '>=TLSv1', '!SSLv2, !SSLv3', '>=TLSv1.1', 'TLSv1.1 TLSv1.2', '<=TLSv1.3', '>=TLSv1.3, <=TLSv1.2', 'bogus']) {
		assert.equal(postfixProtocolList(loose, 'TLSv1.2'), '>=TLSv1.2', String(loose));
	}
	for (const strict of ['>=TLSv1.2', '>=TLSv1.3', '!SSLv2, !SSLv3, !TLSv1, !TLSv1.1', 'TLSv1.3', 'TLSv1.2,TLSv1.3']) assert.equal(postfixProtocolList(strict, 'TLSv1.2'), strict);
	// Opportunistic TLS (25): any TLS, never SSL.
	for (const loose of [undefined, '', '!SSLv2', 'SSLv3 TLSv1']) assert.equal(postfixProtocolList(loose, 'TLSv1'), '>=TLSv1', String(loose));
	for (const strict of ['>=TLSv1', '!SSLv2, !SSLv3', '>=TLSv1.2']) assert.equal(postfixProtocolList(strict, 'TLSv1'), strict);
});

test('Postfix exclusions: the operator\'s stay, ours are added once', () => {
	const ours = 'aNULL, eNULL, EXPORT, LOW, DES, 3DES, RC4, MD5, PSK, SRP';
	assert.equal(excludedCiphers(undefined), ours);
	assert.equal(excludedCiphers(''), ours);
	assert.equal(excludedCiphers('CAMELLIA, aNULL'), 'CAMELLIA, aNULL, eNULL, EXPORT, LOW, DES, 3DES, RC4, MD5, PSK, SRP');
	assert.equal(excludedCiphers(excludedCiphers('CAMELLIA')), excludedCiphers('CAMELLIA'));
	assert.equal(excludedCiphers('SRP:PSK:MD5:RC4:3DES:DES:LOW:EXPORT:eNULL:aNULL:SEED'), 'SRP:PSK:MD5:RC4:3DES:DES:LOW:EXPORT:eNULL:aNULL:SEED', 'complete: left as written');
});
