// An outside TLS audit of wizard-configured servers (issue 19): testssl.sh 3.0.8 and sslscan 2.0.7 (this machine's,
// Debian 12) and testssl.sh 3.2.1 and sslscan 2.1.5 (Debian 13's, chrooted in an overlay of the cached root with a
// layer that has them installed) scan 993, 587 and 25 of a Debian 12 and a Debian 13 server from the laptop, the
// FQDN resolving to the server. testssl.sh 3.2.1 runs twice: as any outsider sees the server, and with the
// server's own (self-signed) certificate added as a CA (`--add-ca`), so that what it still reports is about the
// TLS settings, not certificate trust. Not a test: it prints the findings at LOW and above and keeps every log.
//
//   node --import tsx test/audit/tls-scan.ts TOOLS_LAYER LOG_DIR [12] [13]
//   (env SCAN_PORTS="993 587", SCAN_TOOLS="testssl-3.2.1-trusted": a part of it)
//
// TOOLS_LAYER: the upper dir of an overlay on roots/13 in which `apt-get install testssl.sh sslscan` ran.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {FQDN, type Host, type Release} from '../helpers/server.ts';
import {rootDir} from '../helpers/roots.ts';
import {configuredLab} from '../e2e/lib.ts';

const [layer, logs, ...wanted] = process.argv.slice(2);
assert.ok(layer && logs && fs.existsSync(path.join(layer, 'usr/bin/testssl')), 'usage: tls-scan.ts TOOLS_LAYER LOG_DIR [12] [13]');
const releases = (wanted.length > 0 ? wanted.map(Number) : [12, 13]) as Release[];
const PORTS = (process.env.SCAN_PORTS ?? '993 587 25').split(' ').map(Number);
const TOOLS = (process.env.SCAN_TOOLS ?? 'testssl-3.0.8 testssl-3.2.1 testssl-3.2.1-trusted sslscan-2.0.7 sslscan-2.1.5').split(' ');
const TESTSSL = ['testssl-3.0.8', 'testssl-3.2.1', 'testssl-3.2.1-trusted'].filter(tool => TOOLS.includes(tool));
const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];

/** argv run chrooted in the Debian 13 tools root (a throwaway overlay in the laptop's private mount namespace). */
function inTools(dir: string, argv: string[]): string[] {
	const script = String.raw`
		set -e
		layer=$1 lower=$2 dir=$3 logs=$4
		shift 4
		mkdir -p "$dir/upper" "$dir/work" "$dir/merged"
		mount -t overlay overlay -o "lowerdir=$layer:$lower,upperdir=$dir/upper,workdir=$dir/work" "$dir/merged"
		mount -t proc proc "$dir/merged/proc"
		mount --rbind /dev "$dir/merged/dev"
		for f in hosts resolv.conf; do mount --bind "/etc/$f" "$dir/merged/etc/$f"; done
		mkdir -p "$dir/merged/mnt/logs"
		mount --bind "$logs" "$dir/merged/mnt/logs"
		exec chroot "$dir/merged" "$@"`;
	return ['sh', '-c', script, 'sh', path.resolve(layer!), rootDir(13), dir, path.resolve(logs!), ...argv];
}

interface Finding {
	id: string;
	severity: string;
	finding: string;
}

async function scan(laptop: Host, release: Release, port: number): Promise<void> {
	const starttls = port === 993 ? [] : ['--starttls', 'smtp'];
	const target = `${FQDN}:${port}`;
	const name = (tool: string) => `r${release}-${port}-${tool}`;
	const dir = path.join(laptop.dir, `tools-${port}`); // the overlays' upper dirs
	const testssl = (json: string, ...more: string[]) => ['testssl', '--quiet', '--color', '0', '--warnings', 'batch', '--jsonfile', json, ...more, ...starttls, target];
	const sslscan = ['sslscan', '--no-colour', ...(port === 993 ? [] : ['--starttls-smtp']), target];
	const runs: [string, string[]][] = [
		['testssl-3.0.8', testssl(path.join(logs!, `${name('testssl-3.0.8')}.json`))],
		['testssl-3.2.1', inTools(`${dir}-a`, testssl(`/mnt/logs/${name('testssl-3.2.1')}.json`))],
		['testssl-3.2.1-trusted', inTools(`${dir}-b`, testssl(`/mnt/logs/${name('testssl-3.2.1-trusted')}.json`, '--add-ca', `/mnt/logs/r${release}-cert.pem`))],
		['sslscan-2.0.7', sslscan],
		['sslscan-2.1.5', inTools(`${dir}-c`, sslscan)],
	];
	for (const [tool, argv] of runs.filter(([tool]) => TOOLS.includes(tool))) {
		const start = Date.now();
		const run = await laptop.run(argv, {timeout: 1_800_000});
		fs.writeFileSync(path.join(logs!, `${name(tool)}.log`), `${run.stdout}\n--- stderr\n${run.stderr}\n--- exit ${run.exitCode}\n`);
		console.error(`Debian ${release} ${port} ${tool}: exit ${run.exitCode}, ${((Date.now() - start) / 1000).toFixed(0)} s`);
	}
}

function findings(file: string): Finding[] {
	if (!fs.existsSync(file)) return [{id: 'NO-JSON', severity: 'CRITICAL', finding: `${file} missing`}];
	return (JSON.parse(fs.readFileSync(file, 'utf8')) as Finding[]).filter(f => SEVERITIES.includes(f.severity));
}

await Promise.all(
	releases.map(async release => {
		const l = await configuredLab(release);
		try {
			const {server, laptop} = l;
			const settings = await server.run(['sh', '-c', 'doveconf -n | grep -E "^ssl"; postconf -n | grep -E "tls"; postconf -P | grep tls']);
			fs.writeFileSync(path.join(logs!, `r${release}-settings.txt`), settings.stdout);
			fs.writeFileSync(path.join(logs!, `r${release}-cert.pem`), (await server.read(`/etc/ssl/certs/${FQDN}.crt`))!);
			for (const port of PORTS) await scan(laptop, release, port);
		} finally {
			await l.net.close();
		}
	}),
);

for (const release of releases) {
	for (const port of PORTS) {
		for (const tool of TESTSSL) {
			console.log(`\n== Debian ${release}, port ${port}, ${tool}`);
			for (const f of findings(path.join(logs!, `r${release}-${port}-${tool}.json`))) console.log(`${f.severity.padEnd(8)} ${f.id}: ${f.finding}`);
		}
	}
}
