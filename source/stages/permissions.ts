// Step 3: `chown -R mail:dovecot /etc/dovecot && chmod -R o-rwx /etc/dovecot`, as journalled changes.
import type {FileChange} from '../types.js';
import {DOVECOT, validateDovecot} from './dovecot.js';
import {dovecotService} from './service.js';
import type {Stage} from './stage.js';

export const permissions: Stage = {
	id: 'permissions',
	title: 'Lock down /etc/dovecot',
	service: dovecotService,
	async plan(ctx) {
		const files: FileChange[] = [];
		for (const path of await ctx.host.walk(DOVECOT)) {
			const info = await ctx.host.info(path);
			if (info) files.push({path, owner: 'mail', group: 'dovecot', mode: info.mode & ~0o007});
		}
		return {files, commands: [], notes: []};
	},
	validate: validateDovecot,
};
