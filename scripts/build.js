// One minified ESM file with every dependency inside: what `npx mail-setup` downloads and runs.
import fs from 'node:fs/promises';
import path from 'node:path';
import * as esbuild from 'esbuild';

const pkg = JSON.parse(await fs.readFile('package.json', 'utf8'));
const result = await esbuild.build({
	entryPoints: ['source/cli.tsx'],
	outfile: 'dist/cli.js',
	bundle: true,
	minify: true,
	format: 'esm',
	platform: 'node',
	// Debian 12 and Ubuntu 24.04 ship Node 18 (package.json pins string-width 7: 8 uses a regex flag Node 18 lacks).
	target: 'node18',
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
