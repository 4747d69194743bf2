// SHA512-CRYPT against the spec's vectors, glibc (through openssl passwd -6) and Dovecot itself (doveadm pw -t).
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {test} from 'node:test';
import {randomSalt, sha512Crypt, verifySha512Crypt} from '../source/db/sha512crypt.ts';
import {inRootSync} from './helpers/roots.ts';

// From Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512", the SHA-512 test vectors.
const SPEC: [setting: string, password: string, hash: string][] = [
	['$6$saltstring', 'Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
	[
		'$6$rounds=10000$saltstringsaltstring',
		'Hello world!',
		'$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
	],
	[
		'$6$rounds=5000$toolongsaltstring',
		'This is just a test',
		'$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0',
	],
	[
		'$6$rounds=1400$anotherlongsaltstring',
		'a very much longer text to encrypt.  This one even stretches over morethan one line.',
		'$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
	],
	[
		'$6$rounds=77777$short',
		'we have a short salt string but not a short password',
		'$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
	],
	[
		'$6$rounds=123456$asaltof16chars..',
		'a short string',
		'$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1',
	],
	[
		'$6$rounds=10$roundstoolow',
		'the minimum number is still observed',
		'$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.',
	],
];

const FORMAT = /^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/;

// Throwaway passwords covering the length branches (<64, 64, >64, >128 bytes), UTF-8 and quoting.
const PASSWORDS = ['a', 'Hello world!', `p a'ss"w\\rd`, 'x'.repeat(64), 'y'.repeat(65), 'z'.repeat(200), 'pässwörd ✓', '$6$looks$like$a$hash'];

test('the spec vectors come out exactly, rounds= included or clamped as the spec says', () => {
	for (const [setting, password, hash] of SPEC) assert.equal(sha512Crypt(password, setting), hash, setting);
});

test('a bare salt gives the same as the $6$ setting; the empty password matches glibc', () => {
	assert.equal(sha512Crypt('Hello world!', 'saltstring'), SPEC[0]![2]);
	// glibc crypt("", "$6$abc"), as Python's crypt module and perl print it
	assert.equal(sha512Crypt('', 'abc'), '$6$abc$mJP3a6FyA8uCnzRtlnNypPwjnvpi5TP9qOrInzrfDmwxUQG38PkpCPdqfTb8JQfAngapMxeim4AZ..hSdRRzD.');
});

test('the default: $6$, 16 salt characters, 86 hash characters, no rounds=, a fresh salt each time', () => {
	const a = sha512Crypt('secret');
	const b = sha512Crypt('secret');
	assert.match(a, FORMAT);
	assert.equal(a.length, 106);
	assert.notEqual(a, b);
});

test('random salts use the whole ./0-9A-Za-z alphabet and nothing else', () => {
	const seen = new Set(Array.from({length: 400}, randomSalt).join(''));
	assert.equal(seen.size, 64);
	for (const c of seen) assert.match(c, /[./0-9A-Za-z]/);
});

test('identical to openssl passwd -6 (glibc-compatible) for the same salt', () => {
	for (const password of PASSWORDS) {
		const salt = randomSalt();
		const theirs = execFileSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], {input: `${password}\n`, encoding: 'utf8'}).trim();
		assert.equal(sha512Crypt(password, salt), theirs, password);
	}
});

test('doveadm pw -t accepts our hashes with the {SHA512-CRYPT} prefix, and refuses a wrong password', () => {
	for (const password of PASSWORDS) {
		const hash = sha512Crypt(password);
		// -t reads the password from stdin when it is not a terminal: no secret in argv.
		const good = inRootSync(12, ['doveadm', 'pw', '-t', `{SHA512-CRYPT}${hash}`], {input: `${password}\n`});
		assert.equal(good.exitCode, 0, `${password}: ${good.stderr}`);
		assert.match(good.stdout, /\(verified\)/);
	}
	const wrong = inRootSync(12, ['doveadm', 'pw', '-t', `{SHA512-CRYPT}${sha512Crypt('right one')}`], {input: 'wrong one\n'});
	assert.notEqual(wrong.exitCode, 0);
	assert.match(wrong.stderr, /mismatch/i);
});

test('verifySha512Crypt: right and wrong passwords, with and without the prefix, and non-$6$ input', () => {
	const hash = sha512Crypt(`p a'ss"w\\rd`);
	assert.equal(verifySha512Crypt(`p a'ss"w\\rd`, hash), true);
	assert.equal(verifySha512Crypt(`p a'ss"w\\rd`, `{SHA512-CRYPT}${hash}`), true);
	assert.equal(verifySha512Crypt(`p a'ss"w\\r`, hash), false);
	assert.equal(verifySha512Crypt('Hello world!', SPEC[1]![2]), true);
	assert.equal(verifySha512Crypt('', ''), false);
	assert.equal(verifySha512Crypt('x', '$1$abc$def'), false);
	assert.equal(verifySha512Crypt('x', '{PLAIN}x'), false);
});
