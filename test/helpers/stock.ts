// Pristine stock Debian /etc trees for `--root` tests, copied from the snapshots that
// test/setup/install-stack.sh (Debian 12, this host) and test/setup/trixie.sh (Debian 13) take right
// after the packages are installed. Never the live /etc: the e2e edits it. Not /usr/share/dovecot
// either: it holds more than the packages install into /etc/dovecot (10-metrics.conf on 12,
// 99-local.conf and local.conf on 13), and Postfix's main.cf only exists as its postinst wrote it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {TRIXIE_ROOT, trixieRoot} from './trixie.ts';

/** Where the snapshot of a release's freshly installed /etc lives (layout: DIR/etc/...). */
export function pristineDir(release: 12 | 13): string {
	return release === 12 ? '/var/cache/mail-setup-test/pristine-12' : path.join(path.dirname(TRIXIE_ROOT), 'pristine-13');
}

const MAIL_GID = 8; // group `mail` in Debian's static base-passwd, both releases

/**
 * Builds a stock Debian `release` tree in dest (default: a fresh temp dir) and returns its path:
 * etc/dovecot, etc/postfix, etc/passwd, etc/group, etc/mailname as the packages left them,
 * empty etc/ssl/certs and etc/ssl/private (0700), and var/mail.
 */
export async function makeStockTree(release: 12 | 13, dest?: string): Promise<string> {
	const from = path.join(pristineDir(release), 'etc');
	if (!fs.existsSync(path.join(from, 'dovecot/dovecot.conf')) || (release === 13 && !trixieRoot())) {
		const script = release === 12 ? 'test/setup/install-stack.sh' : 'test/setup/trixie.sh';
		throw new Error(`no pristine Debian ${release} snapshot at ${from}: run bash ${script}`);
	}
	const root = dest ?? (await fs.promises.mkdtemp(path.join(os.tmpdir(), `mail-setup-stock-${release}-`)));
	const etc = path.join(root, 'etc');
	await fs.promises.mkdir(etc, {recursive: true});
	for (const name of ['dovecot', 'postfix', 'passwd', 'group', 'mailname']) {
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
	return root;
}
