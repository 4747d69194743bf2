// SHA512-CRYPT ($6$), the hash Dovecot's default_pass_scheme reads: Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512",
// written out here so the result is byte-identical to glibc crypt(3) and `doveadm pw -s SHA512-CRYPT`.
import crypto from 'node:crypto';

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SALT_MAX = 16;
const ROUNDS_DEFAULT = 5000;
const ROUNDS_MIN = 1000;
const ROUNDS_MAX = 999_999_999;

/** 16 salt characters from the CSPRNG. 256 % 64 == 0, so masking each byte to 6 bits keeps them uniform. */
export function randomSalt(): string {
	return [...crypto.randomBytes(SALT_MAX)].map(b => ALPHABET[b & 63]).join('');
}

/**
 * `$6$<salt>$<86 chars>`. `salt` may be bare or a whole setting (`$6$rounds=N$salt$...`), as crypt(3) takes it;
 * a `rounds=` given is kept in the output, the default 5000 is never written.
 */
export function sha512Crypt(password: string, salt?: string): string {
	let setting = salt ?? randomSalt();
	if (setting.startsWith('$6$')) setting = setting.slice(3);
	let rounds = ROUNDS_DEFAULT;
	let roundsPrefix = '';
	const custom = /^rounds=(\d+)\$/.exec(setting);
	if (custom) {
		rounds = Math.min(Math.max(Number(custom[1]), ROUNDS_MIN), ROUNDS_MAX);
		roundsPrefix = `rounds=${rounds}$`;
		setting = setting.slice(custom[0].length);
	}
	// The salt ends at the first '$' and is cut to 16 characters.
	const saltText = setting.split('$')[0]!.slice(0, SALT_MAX);
	return `$6$${roundsPrefix}${saltText}$${encode(digest(Buffer.from(password, 'utf8'), Buffer.from(saltText, 'utf8'), rounds))}`;
}

/** Does `password` match `hash` (bare `$6$…` or with Dovecot's `{SHA512-CRYPT}` prefix)? Constant-time compare. */
export function verifySha512Crypt(password: string, hash: string): boolean {
	const bare = hash.replace(/^\{SHA512-CRYPT\}/i, '');
	if (!bare.startsWith('$6$')) return false;
	const again = Buffer.from(sha512Crypt(password, bare));
	const given = Buffer.from(bare);
	return again.length === given.length && crypto.timingSafeEqual(again, given);
}

const sha512 = (...parts: Buffer[]): Buffer => {
	const h = crypto.createHash('sha512');
	for (const part of parts) h.update(part);
	return h.digest();
};

/** `source` repeated to exactly `length` bytes (steps 16 and 20 of the spec). */
function stretch(source: Buffer, length: number): Buffer {
	const out = Buffer.alloc(length);
	for (let i = 0; i < length; i += source.length) source.copy(out, i, 0, Math.min(source.length, length - i));
	return out;
}

// The numbered steps are those of the specification.
function digest(p: Buffer, s: Buffer, rounds: number): Buffer {
	// 4-8: digest B = sha512(P S P)
	const b = sha512(p, s, p);
	// 1-3, 9-12: digest A
	const a = crypto.createHash('sha512');
	a.update(p);
	a.update(s);
	let n: number;
	for (n = p.length; n > 64; n -= 64) a.update(b);
	a.update(b.subarray(0, n));
	for (n = p.length; n > 0; n >>= 1) a.update(n & 1 ? b : p);
	let c = a.digest();
	// 13-16: P sequence from digest DP = sha512(P repeated len(P) times)
	const pSeq = stretch(sha512(...Array<Buffer>(p.length).fill(p)), p.length);
	// 17-20: S sequence from digest DS = sha512(S repeated 16 + A[0] times)
	const sSeq = stretch(sha512(...Array<Buffer>(16 + c[0]!).fill(s)), s.length);
	// 21: the rounds
	for (let i = 0; i < rounds; i++) {
		const h = crypto.createHash('sha512');
		h.update(i & 1 ? pSeq : c);
		if (i % 3) h.update(sSeq);
		if (i % 7) h.update(pSeq);
		h.update(i & 1 ? c : pSeq);
		c = h.digest();
	}
	return c;
}

// 22: the spec's byte order, then 24 bits at a time into 4 characters, least significant first.
function encode(c: Buffer): string {
	let out = '';
	const put = (b2: number, b1: number, b0: number, chars: number) => {
		let w = (b2 << 16) | (b1 << 8) | b0;
		for (let k = 0; k < chars; k++, w >>= 6) out += ALPHABET[w & 63];
	};
	for (let i = 0; i < 21; i++) {
		const t = [c[i]!, c[i + 21]!, c[i + 42]!];
		// The triple rotates one place every group: (0,21,42), (22,43,1), (44,2,23), (3,24,45), …
		const r = i % 3;
		put(t[r]!, t[(r + 1) % 3]!, t[(r + 2) % 3]!, 4);
	}
	put(0, 0, c[63]!, 2);
	return out;
}
