#!/usr/bin/env node
// Plain old JavaScript on purpose: it must run (and explain itself) on Node versions the bundle cannot.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 18 || (major === 18 && minor < 19)) {
	console.error(`mail-setup needs Node.js 18.19 or newer, and this is ${process.version} (Debian 12 and Ubuntu 24.04 ship a new enough one: apt-get install nodejs).`);
	process.exit(2);
}
import('../dist/cli.js');
