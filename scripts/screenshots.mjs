// Screenshots for readme.md, taken from a real first run: the wizard as an operator starts it on a fresh
// server (packages installed, MariaDB running, no database), in tmux at 80x30; capture-pane -e at six screens;
// ANSI → SVG → PNG (rsvg-convert). It answers as a person: Enter through the start screen and the defaults,
// the two passwords typed, yes to the database offer, one stage confirmed, then `a` for the rest.
// Usage: node scripts/screenshots.mjs COMMAND...   (the command that starts the wizard on the server, e.g.
//   nsenter -t LEADER -a sh -c 'cd /root/mail-setup && node bin/mail-setup.js'   for a booted test root)
// Needs tmux, librsvg2-bin, fonts-dejavu-core. It applies: run it on a throwaway server only.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

const command = process.argv.slice(2);
if (command.length === 0) throw new Error('usage: node scripts/screenshots.mjs COMMAND...');
const quote = arg => `'${arg.replaceAll("'", "'\\''")}'`;

const env = {...process.env};
delete env.CI;
delete env.NO_COLOR;
const socket = `mail-setup-shots-${process.pid}`;
const tmux = (...args) => execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8', env});
const screen = (escapes = false) => tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', 'shots');

async function waitFor(test, ms = 60_000) {
	for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (test(screen())) return;
	throw new Error(`screen never matched:\n${screen()}`);
}

/** Keys, after the screen has taken its key handlers (React runs effects after the frame). */
async function keys(...names) {
	await sleep(100);
	tmux('send-keys', '-t', 'shots', ...names);
}
const type = async text => keys('-l', text);

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

function shoot(name, ansi) {
	fs.mkdirSync('media', {recursive: true});
	const svg = path.join(os.tmpdir(), `${name}.svg`);
	fs.writeFileSync(svg, toSvg(ansi));
	execFileSync('rsvg-convert', ['-o', `media/${name}.png`, svg]);
	console.log(`media/${name}.png`);
}

try {
	tmux('new-session', '-d', '-s', 'shots', '-x', '80', '-y', '30', 'bash --norc --noprofile');
	await type(`PS1='$ '; clear; ${command.map(quote).join(' ')}; echo EXIT=$?`);
	await keys('Enter');
	await waitFor(text => text.includes('Stages, in order') && !text.includes('checking'));
	shoot('start', screen(true));
	await keys('Enter');
	await waitFor(text => text.includes('▸ FQDN'));
	await keys('Enter', 'Enter', 'Enter', 'Enter', 'Enter', 'Enter');
	await waitFor(text => /▸ database password: *$/m.test(text));
	await type('Shots-Db-Secret-1');
	await keys('Enter', 'Enter');
	await waitFor(text => /▸ test mailbox password: *$/m.test(text));
	await type('Shots-Mailbox-2');
	await sleep(200);
	shoot('questions', screen(true));
	await keys('Enter');
	await waitFor(text => text.includes('? Create what is missing'));
	shoot('offer', screen(true));
	await keys('y');
	await waitFor(text => text.includes('✔ PASS'));
	await keys('Enter');
	await waitFor(text => /Stage 2 of \d+: dovecot-sql/.test(text) && text.includes('s skip'));
	shoot('stage', screen(true));
	await keys('a');
	// The live checks under way: every verdict so far, and the check's transcript as it comes.
	await waitFor(text => /Stage \d+ of \d+: check/.test(text) && / {2}\S+: [CS]: /.test(text));
	shoot('running', screen(true));
	await waitFor(text => text.includes('EXIT='), 120_000);
	// The summary is printed whole; take it from the scrollback, up to the exit line.
	const lines = tmux('capture-pane', '-p', '-e', '-S', '-', '-t', 'shots').split('\n');
	const from = lines.findLastIndex(line => line.includes('· summary ·'));
	shoot('summary', lines.slice(from, lines.findIndex(line => line.includes('EXIT='))).join('\n'));
} finally {
	tmux('kill-server');
}
