// A release's real doveconf on a config tree of the tests (a `--root` directory holding
// etc/dovecot/dovecot.conf): each entry of TREE/etc is bound over the same entry of /etc in an
// overlay of the release's root (roots.ts), then doveconf runs there with
// `-c /etc/dovecot/dovecot.conf`. So relative `!include conf.d/*.conf` and absolute paths alike
// (`ssl_server_cert_file = /etc/ssl/certs/x.crt`, `ssl_cert = </etc/...` read by `-x`) resolve to
// the tree's own files, while binaries and /usr/share/dovecot come from the release.
import fs from 'node:fs';
import path from 'node:path';
import {CACHE, inRoot, type Release} from './roots.ts';
import type {RunResult} from './proc.ts';

export type {RunResult};
/** The Debian 13 root (Dovecot 2.4). */
export const TRIXIE_ROOT = `${CACHE}/roots/13`;

/** The Debian 13 root, or undefined when test/setup/roots.sh has not built it. */
export function trixieRoot(): string | undefined {
	return fs.existsSync(path.join(TRIXIE_ROOT, '.ready')) ? TRIXIE_ROOT : undefined;
}

/** The release's doveconf on the tree at configDir, e.g. `doveconf(13, ['-n'], tree)`. */
export function doveconf(release: Release, args: string[], configDir: string): Promise<RunResult> {
	const etc = path.join(path.resolve(configDir), 'etc');
	const binds = fs.readdirSync(etc).map(name => [path.join(etc, name), `/etc/${name}`] as [string, string]);
	return inRoot(release, ['doveconf', '-c', '/etc/dovecot/dovecot.conf', ...args], {binds, timeout: 30_000});
}

/** Debian 13's doveconf (Dovecot 2.4) on the tree at configDir. */
export const doveconf24 = (args: string[], configDir: string) => doveconf(13, args, configDir);

/** Debian 12's doveconf (Dovecot 2.3) on the tree at configDir. */
export const doveconf23 = (args: string[], configDir: string) => doveconf(12, args, configDir);
