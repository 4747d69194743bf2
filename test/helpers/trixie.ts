// A release's real doveconf on a config tree of the tests (a `--root` directory holding
// etc/dovecot/dovecot.conf): each entry of TREE/etc is bound over the same entry of /etc in an
// overlay of the release's root (roots.ts), then doveconf runs there with
// `-c /etc/dovecot/dovecot.conf`. So relative `!include conf.d/*.conf` and absolute paths alike
// (`ssl_server_cert_file = /etc/ssl/certs/x.crt`, `ssl_cert = </etc/...` read by `-x`) resolve to
// the tree's own files, while binaries and /usr/share/dovecot come from the release.
import {etcBinds, inRoot, type Release} from './roots.ts';
import type {RunResult} from './proc.ts';

export type {RunResult};
/** The release's doveconf on the tree at configDir, e.g. `doveconf(13, ['-n'], tree)`. */
export function doveconf(release: Release, args: string[], configDir: string): Promise<RunResult> {
	return inRoot(release, ['doveconf', '-c', '/etc/dovecot/dovecot.conf', ...args], {binds: etcBinds(configDir), timeout: 30_000});
}

/** Debian 13's doveconf (Dovecot 2.4) on the tree at configDir. */
export const doveconf24 = (args: string[], configDir: string) => doveconf(13, args, configDir);

/** Debian 12's doveconf (Dovecot 2.3) on the tree at configDir. */
export const doveconf23 = (args: string[], configDir: string) => doveconf(12, args, configDir);
