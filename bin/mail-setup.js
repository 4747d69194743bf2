#!/usr/bin/env node
// Plain old JavaScript on purpose: it must run (and explain itself) on Node versions the bundle cannot.
const major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
	console.error(`mail-setup needs Node.js 20 or newer, and this is ${process.version} (Debian 12 ships 18: install Node 20 from Debian 13 or nodejs.org).`);
	process.exit(2);
}
import('../dist/cli.js');
