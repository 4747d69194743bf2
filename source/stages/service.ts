// The services whose config the stages edit. On a machine without one (a laptop trying the wizard)
// a dry run still shows every line a stage would write, as new files; applying there stops at once
// with the command that installs the service.

export interface Service {
	name: string;
	/** Missing means not installed: the file the stage edits, or the service's main config. */
	config: string;
	packages: string;
}

const POSTFIX_PACKAGES = 'postfix postfix-mysql';

export const postfixFile = (config: string): Service => ({name: 'Postfix', config, packages: POSTFIX_PACKAGES});

export const dovecotService: Service = {
	name: 'Dovecot',
	config: '/etc/dovecot/dovecot.conf',
	packages: 'dovecot-core dovecot-imapd dovecot-lmtpd dovecot-mysql',
};

/** What a stage says when its service is missing: a dry run's note, or the reason an applying run fails. */
export function notInstalled(service: Service, dryRun: boolean): string {
	const what = `${service.name} is not installed here (${service.config} does not exist)`;
	return dryRun ? `${what}: the diff shows every line this stage would write` : `${what}: apt-get install ${service.packages}, then run mail-setup again`;
}
