// Every stage, in the order of the tutorial.
import type {StageId} from '../types.js';
import {certificate} from './certificate.js';
import {check} from './check.js';
import {database} from './database.js';
import {dkim} from './dkim.js';
import {dovecotMaster} from './dovecot-master.js';
import {dovecotSql} from './dovecot-sql.js';
import {dovecotSsl} from './dovecot-ssl.js';
import {lda} from './lda.js';
import {permissions} from './permissions.js';
import {postfix} from './postfix.js';
import {reload} from './reload.js';
import type {Stage} from './stage.js';
import {submission} from './submission.js';

export const stages: Stage[] = [database, dovecotSql, permissions, dovecotMaster, lda, certificate, dovecotSsl, postfix, submission, dkim, reload, check];

export function stagesFor(ids: readonly StageId[]): Stage[] {
	return ids.length ? stages.filter(stage => ids.includes(stage.id)) : stages;
}
