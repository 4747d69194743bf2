// SPF evaluation: each mechanism a mail server's record uses, one level of include/redirect, and what is
// not followed said as such. The DNS data is a table here; test/dns-checks.test.ts asks a real DNS server.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {evaluateSpf, spfRecords, type Answer, type SpfDns} from '../source/dns/spf.ts';

const SERVER = '203.0.113.2';
const SERVER6 = '2001:db8::2';

/** type → name → records; a name listed under 'error' gets no answer. */
function table(data: {txt?: Record<string, string[]>; a?: Record<string, string[]>; aaaa?: Record<string, string[]>; mx?: Record<string, string[]>; error?: string[]}): SpfDns & {asked: string[]} {
	const asked: string[] = [];
	const answer = (kind: string, map: Record<string, string[]> | undefined, name: string): Promise<Answer<string[]>> => {
		asked.push(`${kind} ${name}`);
		if (data.error?.includes(name)) return Promise.resolve({kind: 'error', why: 'ETIMEOUT'});
		const found = map?.[name];
		return Promise.resolve(found?.length ? {kind: 'data', data: found} : {kind: 'none'});
	};
	return {
		asked,
		txt: name => answer('TXT', data.txt, name),
		address: (name, family) => answer(family === 4 ? 'A' : 'AAAA', family === 4 ? data.a : data.aaaa, name),
		mx: name => answer('MX', data.mx, name),
	};
}

const zone = table({
	a: {'mail.example.test': [SERVER], 'example.test': ['198.51.100.80'], 'mx2.example.test': ['198.51.100.25']},
	aaaa: {'mail.example.test': [SERVER6]},
	mx: {'example.test': ['mail.example.test'], 'other.test': ['mx2.example.test']},
	txt: {
		'_spf.provider.test': ['v=spf1 ip4:203.0.113.0/28 -all'],
		'_spf.nested.test': ['v=spf1 include:_spf.provider.test -all'],
		'_spf.other.test': ['v=spf1 ip4:198.51.100.0/24 -all'],
		'two.test': ['v=spf1 -all', 'v=spf1 +all'],
	},
});

const evaluate = (record: string, ip = SERVER, dns: SpfDns = zone) => evaluateSpf(record, 'example.test', ip, dns);

test('mx, a and a:host allow the server; -all and ~all refuse it', async () => {
	assert.deepEqual(await evaluate('v=spf1 mx -all'), {result: 'pass', by: 'mx'});
	assert.deepEqual(await evaluate('v=spf1 a:mail.example.test -all'), {result: 'pass', by: 'a:mail.example.test'});
	assert.deepEqual(await evaluate('v=spf1 a -all'), {result: 'fail', by: '-all'}, 'a alone is the domain itself, not the server');
	assert.deepEqual(await evaluate('v=spf1 a ~all'), {result: 'softfail', by: '~all'});
	assert.deepEqual(await evaluate('v=spf1 mx:other.test ?all'), {result: 'neutral', by: '?all'});
	assert.deepEqual(await evaluate('v=spf1 a'), {result: 'neutral', by: 'no mechanism matched and there is no "all"'});
	assert.deepEqual(await evaluate('v=spf1 -mx +all'), {result: 'fail', by: '-mx'}, 'the qualifier of the matching term decides');
	assert.deepEqual(await evaluate('v=spf1 mx -all', SERVER6), {result: 'pass', by: 'mx'}, 'IPv6 through the MX host\'s AAAA');
});

test('ip4: and ip6: with and without a prefix; a and mx with prefixes', async () => {
	assert.equal((await evaluate('v=spf1 ip4:203.0.113.2 -all')).result, 'pass');
	assert.equal((await evaluate('v=spf1 ip4:203.0.113.0/24 -all')).result, 'pass');
	assert.equal((await evaluate('v=spf1 ip4:203.0.113.3 -all')).result, 'fail');
	assert.equal((await evaluate('v=spf1 ip4:203.0.113.0/31 -all', '203.0.113.2')).result, 'fail');
	assert.equal((await evaluate('v=spf1 ip6:2001:db8::/32 -all', SERVER6)).result, 'pass');
	assert.equal((await evaluate('v=spf1 ip6:2001:db8::/32 -all')).result, 'fail', 'an IPv6 network never holds an IPv4 address');
	assert.equal((await evaluate('v=spf1 a:example.test/24 -all', '198.51.100.7')).result, 'pass');
	assert.equal((await evaluate('v=spf1 mx/30 -all', '203.0.113.1')).result, 'pass');
	assert.equal((await evaluate('v=spf1 mx//64 -all', '2001:db8::ffff')).result, 'pass');
	assert.deepEqual(await evaluate('v=spf1 ip4:300.1.1.1 -all'), {result: 'permerror', why: 'ip4:300.1.1.1: not an IPv4 address'});
	assert.equal((await evaluate('v=spf1 ip4:203.0.113.0/33 -all')).result, 'permerror');
});

test('include: is followed one level; deeper, exists, ptr and macros are reported, not guessed', async () => {
	assert.deepEqual(await evaluate('v=spf1 include:_spf.provider.test -all'), {result: 'pass', by: 'include:_spf.provider.test'});
	assert.deepEqual(await evaluate('v=spf1 include:_spf.other.test -all'), {result: 'fail', by: '-all'}, 'an include that does not pass does not match');
	assert.deepEqual(await evaluate('v=spf1 include:_spf.nested.test -all'), {result: 'unknown', why: 'include:_spf.provider.test inside an include is not followed'});
	assert.deepEqual(await evaluate('v=spf1 include:missing.test -all'), {result: 'permerror', why: 'include:missing.test: missing.test has no SPF records, not one'});
	assert.deepEqual(await evaluate('v=spf1 include:two.test -all'), {result: 'permerror', why: 'include:two.test: two.test has 2 SPF records, not one'});
	assert.equal((await evaluate('v=spf1 exists:%{i}.spf.example.test -all')).result, 'unknown');
	assert.deepEqual(await evaluate('v=spf1 ptr -all'), {result: 'unknown', why: 'ptr: ptr is not evaluated here'});
	assert.deepEqual(await evaluate('v=spf1 mx ptr -all'), {result: 'pass', by: 'mx'}, 'a decision before an unfollowed term stands');
	assert.deepEqual(await evaluate('v=spf1 redirect=_spf.provider.test'), {result: 'pass', by: 'ip4:203.0.113.0/28'});
	assert.deepEqual(await evaluate('v=spf1 redirect=_spf.provider.test', '203.0.113.99'), {result: 'fail', by: '-all'}, 'redirect= takes the target record as it is, -all included');
	assert.deepEqual(await evaluate('v=spf1 bogus:x -all'), {result: 'permerror', why: 'unknown mechanism bogus:x'});
	assert.deepEqual(await evaluate('v=spf1 exp=explain.example.test a:mail.example.test -all'), {result: 'pass', by: 'a:mail.example.test'}, 'modifiers other than redirect change nothing');
});

test('a lookup without an answer makes the result unknown, never a pass', async () => {
	const silent = table({mx: {'example.test': ['mail.example.test']}, error: ['mail.example.test', 'example.test']});
	assert.deepEqual(await evaluate('v=spf1 mx -all', SERVER, silent), {result: 'unknown', why: 'mx: no answer for the MX of example.test (ETIMEOUT)'});
	assert.deepEqual(await evaluate('v=spf1 a:mail.example.test -all', SERVER, silent), {result: 'unknown', why: 'a:mail.example.test: no answer for the addresses of mail.example.test (ETIMEOUT)'});
});

test('spfRecords picks v=spf1 records only', () => {
	assert.deepEqual(spfRecords(['google-site-verification=x', 'v=spf1 mx -all', 'v=spf10 nope', 'V=SPF1']), ['v=spf1 mx -all', 'V=SPF1']);
});
