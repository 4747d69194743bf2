// The seventh check: a message submitted on 587 really arrives in the test mailbox. All six other checks
// can pass while every delivery bounces (LMTP refusing, Dovecot 2.4 stripping the domain), so: send one
// message with a unique Subject, find it over IMAPS, delete it again.
import crypto from 'node:crypto';
import {MASK} from '../secrets.js';
import type {CheckStatus} from '../types.js';
import {authToken, imapQuote, loginWait} from './checks.js';
import {StepError, withSession, type Reply, type Session, type SessionOptions} from './sclient.js';

/** What the delivery check needs of runChecks' context (structurally, so checks.ts need not export it). */
export interface DeliveryCtx {
	o: {
		fqdn: string;
		testUser: string;
		testPassword: string;
		timeoutMs: number;
		ports: {submission: number; imaps: number};
		/** How long to wait for the message to arrive, from the moment it was accepted. */
		deliveryWaitMs?: number;
	};
	log: (line: string) => void;
	session: (port: number, protocol: 'smtp' | 'imap', starttls: boolean) => SessionOptions;
}

export interface DeliveryVerdict {
	status: CheckStatus;
	message: string;
}

/** Delivery through Postfix, LMTP and Dovecot takes well under a second when it works. */
export const DELIVERY_WAIT_MS = 15_000;
const POLL_MS = 500;

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** RFC 5322 date, e.g. `Tue, 03 Mar 2026 10:00:00 +0000`. */
function mailDate(date: Date): string {
	return date.toUTCString().replace(/GMT$/, '+0000');
}

export async function mailboxDelivery(ctx: DeliveryCtx): Promise<DeliveryVerdict> {
	const {o, log} = ctx;
	const wait = o.deliveryWaitMs ?? DELIVERY_WAIT_MS;
	const token = crypto.randomBytes(8).toString('hex');
	const subject = `mail-setup delivery check ${token}`;

	// 1. Submit it, as a mail client would: 587, STARTTLS, AUTH PLAIN.
	const queued = await withSession(ctx.session(o.ports.submission, 'smtp', true), async s => {
		s.send(`EHLO ${o.fqdn}`);
		const ehlo = await s.smtp('EHLO');
		if (!ehlo.code.startsWith('2')) throw s.unexpected('EHLO', ehlo, 'the submission service refuses this client.');
		s.send(`AUTH PLAIN ${authToken(o.testUser, o.testPassword)}`, `AUTH PLAIN ${MASK}`);
		const login = await s.smtp('AUTH PLAIN', loginWait(o));
		if (login.code !== '235') throw s.unexpected('AUTH PLAIN', login, 'wrong password for the test mailbox, or no AUTH on the submission port: see the submission-auth check.');
		await expect2(s, `MAIL FROM:<${o.testUser}>`, 'MAIL FROM', 'smtpd_sender_restrictions refuse the logged-in user.');
		await expect2(s, `RCPT TO:<${o.testUser}>`, 'RCPT TO (test mailbox)', 'the test mailbox is not in virtual_users, virtual_mailbox_maps does not find it, or the mail domain is not in virtual_mailbox_domains.');
		s.send('DATA');
		const data = await s.smtp('DATA');
		if (data.code !== '354') throw s.unexpected('DATA', data, 'see the mail log for the reason.');
		// No line starts with a dot, so none needs dot-stuffing.
		for (const line of [
			`From: <${o.testUser}>`,
			`To: <${o.testUser}>`,
			`Subject: ${subject}`,
			`Date: ${mailDate(new Date())}`,
			`Message-ID: <${token}.delivery-check@${o.fqdn}>`,
			'',
			'Sent by `mail-setup check` to prove that mail reaches this mailbox.',
			'The check deletes it as soon as it has found it.',
		])
			s.send(line);
		s.send('.');
		const end = await s.smtp('end of DATA');
		if (!end.code.startsWith('2')) throw s.unexpected('end of DATA', end, 'a content filter or milter refused the message: see the mail log.');
		return end;
	});
	const acceptedAt = Date.now();
	const deadline = acceptedAt + wait;
	const queueId = /queued as (\S+)/i.exec(queued.last)?.[1];

	// 2. Find it over IMAPS: one session, polled.
	return withSession(ctx.session(o.ports.imaps, 'imap', false), async s => {
		let n = 0;
		const command = async (line: string, step: string, hint: string, shown = line): Promise<Reply> => {
			const tag = `d${++n}`;
			s.send(`${tag} ${line}`, `${tag} ${shown}`);
			const reply = await s.imap(tag, step, step === 'login' ? loginWait(o) : undefined);
			if (reply.code !== 'OK') throw s.unexpected(step, reply, hint);
			return reply;
		};
		const greeting = await s.imap('*', 'connect and read the greeting');
		if (greeting.code !== 'OK') throw s.unexpected('greeting', greeting, 'the IMAP service refuses connections.');
		const login = await command(`login ${o.testUser} ${imapQuote(o.testPassword)}`, 'login', 'wrong password or unknown user: see the imaps-login check.', `login ${o.testUser} "${MASK}"`);
		const capabilities = [...greeting.lines, ...login.lines].join(' ');
		await command('SELECT INBOX', 'SELECT INBOX', 'the INBOX cannot be opened: see the imaps-login check.');

		let uids: number[] = [];
		let polls = 0;
		for (;;) {
			polls++;
			const search = await command(`UID SEARCH SUBJECT "${token}"`, 'UID SEARCH', 'the server cannot search the INBOX: see the Dovecot log.');
			uids = search.lines
				.filter(line => /^\* SEARCH\b/i.test(line))
				.flatMap(line => line.slice(8).trim().split(/\s+/))
				.filter(word => /^\d+$/.test(word))
				.map(Number);
			const left = deadline - Date.now();
			if (uids.length || left <= 0) break;
			// The last search falls on the deadline itself.
			await sleep(Math.min(POLL_MS, left));
			// NOOP lets the server tell this session about mail that arrived since SELECT.
			await command('NOOP', 'NOOP', 'the IMAP session broke off: see the Dovecot log.');
		}
		const took = Date.now() - acceptedAt;
		log(`${uids.length ? 'found' : 'not found'} after ${took} ms, ${polls} search${polls > 1 ? 'es' : ''}`);

		if (!uids.length) {
			await command('LOGOUT', 'LOGOUT', 'the service ended badly: see the Dovecot log.');
			const secs = Math.round(wait / 100) / 10;
			const logHint = queueId ? `look for queue ID ${queueId} and for "lmtp" lines in the mail log` : 'look for "lmtp" lines in the mail log';
			return {
				status: 'fail' as const,
				message:
					`the message was accepted on port ${o.ports.submission} (${queued.last}) but never reached the INBOX of ${o.testUser} within ${secs} s (searched for Subject "${subject}"). ` +
					`Usual causes: LMTP refuses the delivery (${logHint}: "User doesn't exist", "Mail access for users with UID 8 not permitted"); ` +
					'Dovecot\'s first_valid_uid must allow uid 8 (mail); on Dovecot 2.4, auth_username_format in 20-lmtp.conf strips the domain (use %{user | lower}); ' +
					'the mail domain must be in virtual_mailbox_domains (and not in mydestination).',
			};
		}

		// 3. Delete it again, so the checks do not fill the mailbox. A failure here does not undo the delivery.
		const set = uids.join(',');
		let leftover = '';
		try {
			await command(`UID STORE ${set} +FLAGS (\\Deleted)`, 'UID STORE', 'the mailbox is read-only for the mail user.');
			// UID EXPUNGE (UIDPLUS) removes only this message, not others the user marked \Deleted.
			if (/\bUIDPLUS\b/i.test(capabilities)) await command(`UID EXPUNGE ${set}`, 'UID EXPUNGE', 'the mailbox is read-only for the mail user.');
			else await command('EXPUNGE', 'EXPUNGE', 'the mailbox is read-only for the mail user.');
			await command('LOGOUT', 'LOGOUT', 'the service ended badly: see the Dovecot log.');
		} catch (error) {
			if (!(error instanceof StepError)) throw error;
			leftover = `; it could not be deleted again (${error.message})`;
		}
		return {
			status: 'pass' as const,
			message: `a message submitted on port ${o.ports.submission} reached the INBOX of ${o.testUser} after ${took} ms (UID ${set})${leftover || ', and was deleted again'}`,
		};
	});
}

/** Sends an SMTP command and expects a 2xx reply. */
async function expect2(s: Session, line: string, step: string, hint: string): Promise<Reply> {
	s.send(line);
	const reply = await s.smtp(step);
	if (!reply.code.startsWith('2')) throw s.unexpected(step, reply, hint);
	return reply;
}
