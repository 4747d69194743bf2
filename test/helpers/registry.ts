// mail-setup as an operator gets it: the tarball of `npm pack`, served by a tiny npm registry on a
// test host, so that `npx mail-setup` on a server works literally as typed (its npm points there).
//
//   const tarball = await packTarball();                  // built and packed once per test process
//   const url = await serveRegistry(laptop, tarball);     // http://<laptop>:4873/
//   await server.write('/root/.npmrc', `registry=${url}\n`);
//   await server.run(['npx', '--yes', 'mail-setup', '--version']);
//   await installTarball(laptop, tarball)                 // → argv of the CLI unpacked as npx would
//
// Run as a script (`node --import tsx registry.ts TARBALL ADDRESS PORT`) it is the registry
// itself: GET /mail-setup answers the package document, GET /mail-setup/-/<file>.tgz the
// tarball, anything else 404 (npm then carries on without it).
import {createHash} from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {fileURLToPath} from 'node:url';
import {gunzipSync} from 'node:zlib';
import {must, tempDir} from './proc.ts';
import type {Host} from './server.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const REGISTRY_PORT = 4873;

let packed: Promise<string> | undefined;

/** Builds the bundle and packs it (npm pack runs `prepare`); once per process. Returns the .tgz path. */
export function packTarball(): Promise<string> {
	packed ??= (async () => {
		const dir = tempDir('pack');
		const out = await must(['npm', 'pack', '--silent', '--pack-destination', dir], {cwd: REPO, timeout: 300_000});
		return path.join(dir, out.trim().split('\n').at(-1)!);
	})();
	return packed;
}

/** Unpacks the tarball on this machine as npx would (no dependencies: the bundle has them); returns the CLI's argv. */
export async function installTarball(host: Host, tarball: string): Promise<string[]> {
	const dir = path.join(host.dir, 'npx/node_modules/mail-setup');
	fs.mkdirSync(dir, {recursive: true});
	await must(['tar', '-xzf', tarball, '-C', dir, '--strip-components=1', '--no-same-owner']);
	return ['node', path.join(dir, 'bin/mail-setup.js')];
}

/** Starts the registry on the host; resolves with its URL once it answers. Ends with the network. */
export async function serveRegistry(host: Host, tarball: string): Promise<string> {
	const url = `http://${host.address}:${REGISTRY_PORT}/`;
	host.spawn([process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), tarball, host.address, String(REGISTRY_PORT)], {
		cwd: REPO,
		log: path.join(host.dir, 'registry.log'),
	});
	for (const end = Date.now() + 20_000; Date.now() < end; await sleep(100)) {
		const probe = await host.run(['curl', '-sf', '-o', '/dev/null', `${url}mail-setup`], {timeout: 5_000});
		if (probe.exitCode === 0) return url;
	}
	throw new Error(`the npm registry on ${host.name} did not answer at ${url}: ${fs.readFileSync(path.join(host.dir, 'registry.log'), 'utf8')}`);
}

/** The package document npm reads: every field of package.json, plus where the tarball is and its hashes. */
function packument(tarball: string, base: string): {name: string; body: string; file: string} {
	const data = fs.readFileSync(tarball);
	const manifest = JSON.parse(new TextDecoder().decode(untarFile(data, 'package/package.json'))) as {name: string; version: string};
	const file = `${manifest.name}-${manifest.version}.tgz`;
	const version = {
		...manifest,
		_id: `${manifest.name}@${manifest.version}`,
		dist: {
			tarball: `${base}${manifest.name}/-/${file}`,
			shasum: createHash('sha1').update(data).digest('hex'),
			integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`,
		},
	};
	const body = JSON.stringify({name: manifest.name, 'dist-tags': {latest: manifest.version}, versions: {[manifest.version]: version}, modified: new Date().toISOString()});
	return {name: manifest.name, body, file};
}

/** One file out of a .tgz (ustar): enough for package.json. */
function untarFile(tgz: Buffer, wanted: string): Buffer {
	const tar = gunzipSync(tgz);
	for (let offset = 0; offset + 512 <= tar.length; ) {
		const name = tar.subarray(offset, offset + 100).toString('utf8').replace(/\0.*$/s, '');
		if (!name) break;
		const size = parseInt(tar.subarray(offset + 124, offset + 136).toString('utf8').replace(/\0.*$/s, '').trim(), 8);
		if (name === wanted) return tar.subarray(offset + 512, offset + 512 + size);
		offset += 512 + Math.ceil(size / 512) * 512;
	}
	throw new Error(`${wanted} not in the tarball`);
}

function serve(tarball: string, address: string, port: number): void {
	const base = `http://${address}:${port}/`;
	const {name, body, file} = packument(tarball, base);
	http
		.createServer((request, response) => {
			const url = decodeURIComponent(request.url ?? '');
			if (url === `/${name}`) {
				response.writeHead(200, {'content-type': 'application/json'}).end(body);
			} else if (url === `/${name}/-/${file}`) {
				response.writeHead(200, {'content-type': 'application/octet-stream'});
				fs.createReadStream(tarball).pipe(response);
			} else {
				response.writeHead(404, {'content-type': 'application/json'}).end('{"error":"not found"}');
			}
			console.log(`${request.method} ${url} ${response.statusCode}`);
		})
		.listen(port, address);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) serve(process.argv[2]!, process.argv[3]!, Number(process.argv[4]));
