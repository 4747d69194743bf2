// Screenshots for readme.md, taken from a real first run: a freshly booted Debian 12 server of the end-to-end
// harness (test/helpers/server.ts: packages installed, MariaDB running, no database; its resolver knows only
// the server's A record, as before the mail records are published) and a laptop whose tmux
// (80x30, colours on) runs `ssh -tt root@mail.example.test`, then `npx mail-setup` answered as a person does:
// Enter through the start screen and the defaults, the two passwords typed, yes to the database offer, one
// stage confirmed, then `a` for the rest (Enter, no, to the Let's Encrypt offer); last the day-two screen,
// `npx mail-setup mailbox`, adding a mailbox. Each screen: tmux capture-pane -e → SVG → PNG (rsvg-convert) in
// media/; a screen showing a password is an error.
// Usage, as root once the test roots exist (test/setup/roots.sh): node --import tsx scripts/screenshots.mjs
// Needs librsvg2-bin and fonts-dejavu-core besides what the end-to-end tests need.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {DB_PASSWORD, DOMAIN, lab, TEST_PASSWORD} from '../test/e2e/lib.ts';
import {serveZone} from '../test/helpers/dns-zone.ts';
import {FQDN, SUBNET} from '../test/helpers/server.ts';
import {Terminal} from '../test/helpers/terminal.ts';

/** A throwaway password for the mailbox added on the day-two screen. */
const ALICE_PASSWORD = 'Shots-Alice-3';
const SECRETS = [DB_PASSWORD, TEST_PASSWORD, ALICE_PASSWORD];
const MEDIA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../media');

// ANSI (as tmux captures it) → SVG: one <text> per run of same-styled characters, placed by column.
const palette = ['#1e1e1e', '#e06c75', '#98c379', '#e5c07b', '#61afef', '#c678dd', '#56b6c2', '#d4d4d4'];
const bright = ['#5c6370', '#ff7b86', '#b5e890', '#ffd68a', '#7cc4ff', '#de8ef0', '#6fd3e0', '#ffffff'];
const cell = {w: 8.43, h: 18};
const escapeXml = text => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function toSvg(ansi) {
	const rows = ansi.replace(/\n+$/, '').split('\n');
	const out = [];
	let style = {}; // tmux writes a style only where it changes, so it carries over line ends
	for (const [row, line] of rows.entries()) {
		let col = 0;
		const emit = text => {
			for (const part of text.match(/[\x20-\x7e]+|[^\x20-\x7e]/gu) ?? []) {
				const fg = style.inverse ? '#1e1e1e' : (style.fg ?? '#d4d4d4');
				const x = (col * cell.w + 12).toFixed(1);
				const y = row * cell.h + 12;
				if (style.inverse) out.push(`<rect x="${x}" y="${y}" width="${(part.length * cell.w).toFixed(1)}" height="${cell.h}" fill="${style.fg ?? '#d4d4d4'}"/>`);
				if (part.trim()) {
					out.push(
						`<text x="${x}" y="${y + 14}" fill="${fg}"${style.bold ? ' font-weight="bold"' : ''}${style.dim ? ' opacity="0.6"' : ''}>${escapeXml(part)}</text>`,
					);
				}
				col += part.length;
			}
		};
		for (const piece of line.split(/(\x1b\[[0-9;]*m)/)) {
			const sgr = piece.match(/^\x1b\[([0-9;]*)m$/);
			if (!sgr) {
				emit(piece);
				continue;
			}
			const codes = (sgr[1] || '0').split(';').map(Number);
			for (let i = 0; i < codes.length; i++) {
				const c = codes[i];
				if (c === 0) style = {};
				else if (c === 1) style.bold = true;
				else if (c === 2) style.dim = true;
				else if (c === 22) style.bold = style.dim = false;
				else if (c === 7) style.inverse = true;
				else if (c === 27) style.inverse = false;
				else if (c >= 30 && c <= 37) style.fg = palette[c - 30];
				else if (c >= 90 && c <= 97) style.fg = bright[c - 90];
				else if (c === 39) delete style.fg;
				else if (c === 38 && codes[i + 1] === 5) {
					const n = codes[i + 2];
					style.fg = n < 8 ? palette[n] : n < 16 ? bright[n - 8] : '#d4d4d4';
					i += 2;
				} else if (c === 38 && codes[i + 1] === 2) {
					style.fg = `rgb(${codes[i + 2]},${codes[i + 3]},${codes[i + 4]})`;
					i += 4;
				}
			}
		}
	}
	const width = Math.ceil(80 * cell.w + 24);
	const height = rows.length * cell.h + 24;
	return [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans Mono" font-size="14" xml:space="preserve">`,
		`<rect width="100%" height="100%" rx="8" fill="#1e1e1e"/>`,
		...out,
		'</svg>',
	].join('\n');
}

const plain = ansi => ansi.replace(/\x1b\[[0-9;]*m/g, '');

/** The lines from the wizard's header on (the shell's lines above it are not the wizard's), as PNG. */
function shoot(name, ansi) {
	const lines = ansi.replace(/\n+$/, '').split('\n');
	const shown = lines.slice(Math.max(0, lines.findLastIndex(line => /^mail-setup \d/.test(plain(line))))).join('\n');
	if (SECRETS.some(secret => plain(shown).includes(secret))) throw new Error(`${name}: a password is on screen`);
	const svg = path.join(os.tmpdir(), `mail-setup-shots-${process.pid}-${name}.svg`);
	fs.writeFileSync(svg, toSvg(shown));
	execFileSync('rsvg-convert', ['-o', path.join(MEDIA, `${name}.png`), svg]);
	fs.rmSync(svg);
	console.log(path.join(MEDIA, `${name}.png`));
}

const prompt = /^root@mail:~#$/m;
/** The shell is back: its bare prompt is the last line. */
const finished = screen => screen.trimEnd().split('\n').at(-1) === 'root@mail:~#';

/** A command typed at the server's shell after clearing the screen; npm's "Ok to proceed? (y)" answered. */
async function run(term, command, ready) {
	await term.type(`clear; ${command}`);
	await term.keys('Enter');
	const first = await term.waitFor(s => /^Ok to proceed\? \(y\)$/m.test(s) || ready.test(s), 120_000);
	if (!ready.test(first)) await term.keys('Enter');
	return term.waitFor(ready, 120_000);
}

const l = await lab(12);
let zone;
try {
	const dns = await l.net.add('dns', {address: `${SUBNET}.53`});
	const records = [{type: 'A', name: FQDN, value: l.server.address}];
	zone = await serveZone({netns: dns.ns, address: dns.address, records, zones: [DOMAIN, `${SUBNET.split('.').reverse().join('.')}.in-addr.arpa`]});
	await l.server.write('/etc/resolv.conf', `nameserver ${dns.address}\n`);
	const term = await Terminal.open(l.laptop, {cols: 80, rows: 30});
	await term.type(`ssh -tt root@${FQDN}`);
	await term.keys('Enter');
	await term.waitFor(prompt);

	await run(term, 'npx mail-setup', /^Stages, in order:$/m);
	await term.waitFor(s => !s.includes('checking'));
	shoot('start', await term.colours());
	await term.keys('Enter'); // stage by stage
	// Every question until the database offer: Enter keeps a default, the two passwords are typed.
	const question = s => /^▸ ([A-Za-z][A-Za-z ]*): ?(.*)$/m.exec(s)?.slice(1, 3);
	const offer = /^\? Create what is missing/m;
	for (let last = ''; ; ) {
		const screen = await term.waitFor(s => offer.test(s) || (question(s) ?? [last])[0] !== last, 120_000);
		if (offer.test(screen)) break;
		const [field, value] = question(screen);
		last = field;
		if (field === 'database password' && !value) {
			await term.type(DB_PASSWORD);
			await term.waitFor(/^▸ database password: \*+$/m);
		} else if (field === 'test mailbox password' && !value) {
			await term.type(TEST_PASSWORD);
			await term.waitFor(/^▸ test mailbox password: \*+$/m);
			shoot('questions', await term.colours());
		}
		await term.keys('Enter');
	}
	shoot('offer', await term.colours());
	await term.keys('Enter'); // yes
	await term.waitFor(/✔ PASS/, 120_000);
	await term.keys('Enter');
	await term.waitFor(s => /Stage 2 of \d+: dovecot-sql/.test(s) && s.includes('s skip'));
	shoot('stage', await term.colours());
	await term.keys('a'); // this and every following stage
	// It stops once more: the FQDN resolves to the server, so the certificate stage offers Let's Encrypt.
	await term.waitFor(/^\? Ask Let's Encrypt/m, 120_000);
	await term.keys('Enter'); // no: the self-signed pair
	// The live checks under way: every verdict so far, and the check's transcript as it comes.
	await term.waitFor(s => /Stage \d+ of \d+: check/.test(s) && / {2}\S+: [CS]: /.test(s), 300_000);
	shoot('running', await term.colours());
	await term.waitFor(finished, 300_000);
	// The summary is printed whole; take it from the scrollback, up to the prompt after it.
	const scrollback = (await term.colours(true)).replace(/\n+$/, '').split('\n');
	shoot('summary', scrollback.slice(scrollback.findLastIndex(line => plain(line).includes('· summary ·')), -1).join('\n'));

	await run(term, 'npx mail-setup mailbox', /a add mailbox/);
	await term.keys('a');
	await term.waitFor(/^▸ New mailbox: @/m);
	await term.type('alice');
	await term.keys('Enter');
	for (const again of [false, true]) {
		await term.waitFor(again ? /^▸ The same password again:/m : /^▸ New password for /m);
		await term.type(ALICE_PASSWORD);
		await term.keys('Enter');
	}
	await term.waitFor(/added mailbox alice@/, 60_000);
	shoot('mailbox', await term.colours());
	await term.keys('q');
	await term.waitFor(finished);
	const history = await term.history();
	if (SECRETS.some(secret => history.includes(secret))) throw new Error('a password was on screen during the run');
} finally {
	await zone?.stop();
	await l.net.close(); // ends the tmux server too
}
