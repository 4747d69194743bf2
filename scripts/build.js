// One minified ESM file with every dependency inside: what `npx mail-setup` downloads and runs.
import fs from 'node:fs/promises';
import path from 'node:path';
import * as esbuild from 'esbuild';

const pkg = JSON.parse(await fs.readFile('package.json', 'utf8'));

// Debian 12 and Ubuntu 24.04 ship Node 18, whose RegExp lacks the `v` flag that string-width 8 (ink's
// measure of text) uses. Its other classes are fine with `u`; only \p{RGI_Emoji} needs `v`, and for a width
// the code-point form is enough: a cluster that starts with an emoji shown as one (Emoji_Presentation, or
// any pictograph with VS16), a flag or a keycap is two columns wide. ✔ and ⚠ stay one, as terminals draw them.
const RGI_EMOJI = String.raw`/^\p{RGI_Emoji}$/v`;
const nodeEighteen = {
	name: 'string-width-without-v-flag',
	setup(build) {
		build.onLoad({filter: /[\\/]string-width[\\/]index\.js$/}, async args => {
			const text = await fs.readFile(args.path, 'utf8');
			if (!/\/v[;,)]/.test(text)) return undefined; // string-width 7 (wrap-ansi's) has no v flag
			if (!text.includes(RGI_EMOJI)) throw new Error(`${args.path}: string-width changed; review the Node 18 patch in scripts/build.js`);
			const patched = text
				.replace(RGI_EMOJI, String.raw`/^(?:\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F|\p{Regional_Indicator}{2}|[#*0-9]\uFE0F?\u20E3)/u`)
				.replace(/\/v([;,)])/g, '/u$1');
			return {contents: patched, loader: 'js'};
		});
	},
};

const result = await esbuild.build({
	entryPoints: ['source/cli.tsx'],
	outfile: 'dist/cli.js',
	bundle: true,
	minify: true,
	format: 'esm',
	platform: 'node',
	target: 'node18',
	plugins: [nodeEighteen],
	jsx: 'automatic',
	legalComments: 'none',
	metafile: true,
	// forge and mysql2 call require() for Node built-ins; ESM has none unless we make one.
	banner: {js: "import {createRequire as __mailSetupRequire} from 'node:module';const require=__mailSetupRequire(import.meta.url);"},
	// ink imports react-devtools-core only when DEV is set; never in a published CLI.
	alias: {'react-devtools-core': './scripts/devtools-stub.js'},
	define: {'process.env.NODE_ENV': '"production"', VERSION: JSON.stringify(pkg.version)},
});

// Keep the licence texts of everything bundled.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
	const match = input.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//);
	if (match) packages.add(match[1]);
}
const notices = [];
for (const dir of [...packages].sort()) {
	const meta = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8'));
	const file = (await fs.readdir(dir)).find(name => /^licen[cs]e/i.test(name));
	const text = file ? await fs.readFile(path.join(dir, file), 'utf8') : `License: ${meta.license ?? 'see package'}`;
	notices.push(`${meta.name}@${meta.version}\n${'-'.repeat(40)}\n${text.trim()}\n`);
}
await fs.writeFile('dist/THIRD-PARTY-LICENSES.txt', notices.join('\n\n'));
const size = (await fs.stat('dist/cli.js')).size;
console.error(`dist/cli.js ${(size / 1024).toFixed(0)} KiB, ${packages.size} bundled packages`);
