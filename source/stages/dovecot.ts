// Shared by the Dovecot stages: reading and editing its files, quoting, validating with doveconf.
import {DovecotConfig} from '../config/dovecot.js';
import type {DovecotSyntax, FileChange} from '../types.js';
import type {StageContext, Validation} from './stage.js';

export const DOVECOT = '/etc/dovecot';
export const confD = (name: string) => `${DOVECOT}/conf.d/${name}`;

/** Owner, group and mode of every file holding the DB password (matches the permissions stage). */
export const secretFile = {owner: 'mail', group: 'dovecot', mode: 0o640, secret: true} as const;

/** Parse a file (missing = empty), edit it, and return the wanted state. */
export async function editDovecot(
	ctx: StageContext,
	path: string,
	edit: (config: DovecotConfig) => void,
	extra: Partial<FileChange> = {},
): Promise<FileChange> {
	const config = DovecotConfig.parse((await ctx.host.read(path)) ?? '', path);
	edit(config);
	return {path, content: config.toString(), ...extra};
}

/** A value as Dovecot's config parser reads it back: plain when safe, else double-quoted with escapes. */
export function quote(value: string): string {
	return /^[A-Za-z0-9._~!@^*()+=,:;?/[\]|-]+$/.test(value) ? value : `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/** `doveconf` on the target tree; -x also opens every file a setting names (certificates), so only on the real root. */
export async function validateDovecot(ctx: StageContext): Promise<Validation[]> {
	const {host, answers} = ctx;
	const version = await host.probe(['dovecot', '--version']);
	if (version.exitCode !== 0) return [{command: 'dovecot --version', ok: true, problems: ['Dovecot is not installed here: not validated']}];
	if (syntaxOf(version.stdout) !== answers.dovecot) {
		return [{command: 'doveconf', ok: true, problems: [`installed Dovecot ${version.stdout.trim()} cannot check ${answers.dovecot} syntax: not validated`]}];
	}
	const config = host.real(`${DOVECOT}/dovecot.conf`);
	const flags = host.root === '/' ? ['-n', '-x'] : ['-n'];
	const runs: Validation[] = [];
	for (const flag of flags) {
		const argv = ['doveconf', flag, '-c', config];
		const run = await host.probe(argv);
		// stdout is the whole config (with -x even the key): never kept, only the complaints.
		runs.push({
			command: `doveconf ${flag}`,
			ok: run.exitCode === 0,
			problems: run.stderr.split('\n').map(line => line.trim()).filter(Boolean),
		});
	}
	return runs;
}

export function syntaxOf(version: string): DovecotSyntax {
	const [major, minor] = version.trim().split(/[.\s]/).map(Number);
	return (major ?? 0) > 2 || (major === 2 && (minor ?? 0) >= 4) ? '2.4' : '2.3';
}
