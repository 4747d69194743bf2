// Where a secret stands and how it is hidden: the one rule for diffs, messages and transcripts.
//
// Masks go where the program knows a secret stands (by structure), never wherever its characters
// happen to occur: a search for a short password masks pieces of ordinary words ("x" in "example",
// "mail" in "/var/mail", "dovecot" in "/etc/dovecot") and the pattern of masks spells the password out.
//   - a setting whose key says it is a password (`password = …`, `db_password = …`): the whole value;
//     an empty value stays as it is, on its one line
//   - the `password=` field of a connect string (Dovecot 2.3's `connect = … password=…`), or a
//     `password = …` that a message quotes inside a line
//   - a private key: one line, "(private key, N bytes)"
//   - comments are left alone: Debian's commented examples are not the operator's secrets
// Text from outside the program (a validator's stderr, a server's reply, a MariaDB error) gets the same
// structural masks and, in addition, loses every exact occurrence of a secret of SCRUB_MIN_LENGTH or more.
// SQL that names a user and the AUTH/LOGIN lines of the checks are masked where they are built
// (db/database.ts, checks/): there the program writes the mask itself.

export const MASK = '***';

/**
 * Below 8 characters a password is usually a word or a piece of one that the program's own messages
 * are full of (mail, dovecot, postfix, mariadb, example, %u): searching for it would mangle them and
 * point at the password. 8 is also the least length NIST SP 800-63B asks of a chosen secret, so every
 * password of the usual minimum is covered; shorter ones are still masked by structure.
 */
export const SCRUB_MIN_LENGTH = 8;

// The key is `password` or ends in `_password` (not password_query, nor *_password_scheme).
const KEY = String.raw`(?:[\w.-]*[_.-])?password[ \t]*=[ \t]*`;
// A whole line that sets it: the value runs to the end of the line (Postfix maps take spaces as they are).
const SETTING = new RegExp(String.raw`^(\s*${KEY})(.*?)([ \t]*)$`, 'i');
// Inside a line (a connect string, a message quoting a setting): a quoted value, or up to the next space.
const FIELD = new RegExp(String.raw`(^|\s)(${KEY})("(?:[^"\\]|\\.)*"|\S+)`, 'gi');
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----/;

const keyLine = (key: string) => `(private key, ${Buffer.byteLength(key)} bytes)`;

/** One line of a config file, or of a message that quotes one. */
export function maskLine(line: string): string {
	if (/^\s*#/.test(line)) return line;
	const setting = SETTING.exec(line);
	if (setting) return setting[2] ? setting[1] + MASK + setting[3] : line;
	return line.replace(FIELD, (_, space: string, key: string) => space + key + MASK);
}

/** Every line of a text masked by structure; a private key block becomes one line. */
export function maskText(text: string): string {
	return text.replace(new RegExp(PRIVATE_KEY, 'g'), keyLine).split('\n').map(maskLine).join('\n');
}

const isPrivateKey = (text: string | undefined) => text !== undefined && PRIVATE_KEY.test(text);

/**
 * The unified diff of a file that holds a secret (FileChange.secret), given the file's text before
 * (undefined: new file) and after. A private key file shows one line per side; any other file shows
 * every line, password values masked.
 */
export function maskDiff(diff: string, before: string | undefined, after: string): string {
	const lines = diff.split('\n');
	if (isPrivateKey(before) || isPrivateKey(after)) {
		// Two keys share their BEGIN/END lines, so a line diff would interleave them: show each side whole.
		const side = (sign: string, text: string) => (isPrivateKey(text) ? [sign + keyLine(text)] : text.trimEnd().split('\n').map(line => sign + maskLine(line)));
		return [...lines.slice(0, 2), ...(before ? side('-', before) : []), ...(after ? side('+', after) : []), ''].join('\n');
	}
	// Headers and hunk lines stay; a body line keeps its ' ', '-' or '+' and masks the rest.
	return lines.map((line, i) => (i >= 2 && /^[ +-]/.test(line) ? line[0] + maskLine(line.slice(1)) : line)).join('\n');
}

/** Text from outside the program: masked by structure, then every known secret long enough to search for. */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
	let out = maskText(text);
	const searchable = secrets.filter((secret): secret is string => (secret?.length ?? 0) >= SCRUB_MIN_LENGTH);
	// Longest first, so a secret that contains another is not half shown.
	for (const secret of searchable.sort((a, b) => b.length - a.length)) out = out.split(secret).join(MASK);
	return out;
}
