// Pristine stock Debian /etc trees for `--root` tests, copied from the cached roots
// (test/setup/roots.sh), whose /etc is exactly what the packages installed: nothing ever boots or
// changes the roots themselves. Not /usr/share/dovecot: it holds more than the packages install
// into /etc/dovecot (10-metrics.conf on 12, 99-local.conf and local.conf on 13), and Postfix's
// main.cf only exists as its postinst wrote it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {rootDir, type Release} from './roots.ts';

const MAIL_GID = 8; // group `mail` in Debian's static base-passwd, both releases

/**
 * Builds a stock Debian `release` tree in dest (default: a fresh temp dir) and returns its path:
 * etc/dovecot, etc/postfix, etc/passwd, etc/group, etc/mailname as the packages left them,
 * empty etc/ssl/certs and etc/ssl/private (0700), and var/mail. With `opendkim`, also OpenDKIM's
 * etc/opendkim.conf, etc/dkimkeys and usr/sbin/opendkim (the dkim stage is skipped without it).
 */
export async function makeStockTree(release: Release, dest?: string, options: {opendkim?: boolean} = {}): Promise<string> {
	const from = path.join(rootDir(release), 'etc');
	const root = dest ?? (await fs.promises.mkdtemp(path.join(os.tmpdir(), `mail-setup-stock-${release}-`)));
	const etc = path.join(root, 'etc');
	await fs.promises.mkdir(etc, {recursive: true});
	for (const name of ['dovecot', 'postfix', 'passwd', 'group', 'mailname', ...(options.opendkim ? ['opendkim.conf', 'dkimkeys'] : [])]) {
		// verbatimSymlinks: Debian 13's private/dovecot.pem links to the snakeoil cert; keep it as is.
		await fs.promises.cp(path.join(from, name), path.join(etc, name), {recursive: true, preserveTimestamps: true, verbatimSymlinks: true});
	}
	await fs.promises.mkdir(path.join(etc, 'ssl/certs'), {recursive: true, mode: 0o755});
	await fs.promises.mkdir(path.join(etc, 'ssl/private'), {mode: 0o700});
	await fs.promises.chmod(path.join(etc, 'ssl/private'), 0o700); // mkdir's mode is masked by umask
	const mail = path.join(root, 'var/mail');
	await fs.promises.mkdir(mail, {recursive: true});
	await fs.promises.chown(mail, 0, MAIL_GID);
	await fs.promises.chmod(mail, 0o2775); // as Debian ships /var/mail
	if (options.opendkim) {
		await fs.promises.mkdir(path.join(root, 'usr/sbin'), {recursive: true});
		await fs.promises.cp(path.join(rootDir(release), 'usr/sbin/opendkim'), path.join(root, 'usr/sbin/opendkim'), {preserveTimestamps: true});
	}
	return root;
}
