// An expect-style driver around `openssl s_client`: send one line, wait for the reply, repeat.
// Every wait has a deadline, every session ends (QUIT/LOGOUT, then a kill), and secrets
// only ever travel on s_client's stdin and are masked before anything is recorded.
import {execa, type ResultPromise} from 'execa';
import {scrub} from '../secrets.js';

// Transcripts are text from a server: masked by the one rule (checks.ts imports it from here).
export {scrub};

export type Failure = 'refused' | 'unreachable' | 'tls' | 'timeout' | 'closed' | 'unexpected' | 'missing';

/** A failed step, told the way the operator needs it: step, what was sent, what came back, usual cause. */
export class StepError extends Error {
	constructor(
		readonly kind: Failure,
		readonly step: string,
		readonly sent: string,
		readonly got: string,
		readonly hint: string,
	) {
		super(`${step}: ${describe(kind)}. Sent: ${sent || 'nothing yet'}. Got: ${got || 'nothing'}.${hint ? ` Usual cause: ${hint}` : ''}`);
	}
}

function describe(kind: Failure): string {
	return {
		refused: 'connection refused',
		unreachable: 'host not reachable',
		tls: 'TLS handshake failed',
		timeout: 'no answer before the deadline',
		closed: 'the server closed the connection',
		unexpected: 'unexpected reply',
		missing: 'openssl is not installed',
	}[kind];
}

export interface SessionOptions {
	host: string;
	port: number;
	/** The name to ask for (SNI) and to say in s_client's own EHLO. */
	servername: string;
	/** SMTP STARTTLS (25, 587) before TLS; otherwise TLS from the first byte (993). */
	starttls?: boolean;
	/** IMAP replies carry literals ({123} then raw bytes): those are counted, not parsed as lines. */
	protocol: 'smtp' | 'imap';
	timeoutMs: number;
	/** Masked wherever they would be recorded (secrets.ts: by structure, and by text when long enough). */
	secrets?: string[];
	onLine?: (line: string) => void;
	/** Test hook: the child's pid once spawned (to prove argv holds no secret). */
	onSpawn?: (pid: number | undefined) => void;
}

export interface Reply {
	lines: string[];
	/** The deciding line: SMTP's final `ddd ` line, IMAP's tagged status. */
	last: string;
	/** SMTP reply code, or IMAP status (OK, NO, BAD). */
	code: string;
	/** The line (as shown) this replies to. */
	sent: string;
}

/** host:port for -connect; an IPv6 literal needs brackets. */
export function connectArg(host: string, port: number): string {
	return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class Session {
	readonly transcript: string[] = [];
	readonly argv: string[];
	private readonly child: ResultPromise;
	private readonly pending: string[] = []; // complete lines not yet claimed by a wait
	private partial = Buffer.alloc(0);
	private literalLeft = 0;
	private stderr = '';
	private lastSent = '';
	private exited = false;
	private missing = false;
	private stuck = false; // a wait timed out: the session is killed, not politely ended
	private wake?: () => void;
	private readonly done: Promise<void>;

	constructor(private readonly options: SessionOptions) {
		const {host, port, servername, starttls} = options;
		// -quiet implies -ign_eof, so a line starting with R or Q is sent, not obeyed (field notes).
		this.argv = [
			's_client',
			'-quiet',
			'-crlf',
			...(starttls ? ['-starttls', 'smtp', '-name', servername] : []),
			'-servername',
			servername,
			'-connect',
			connectArg(host, port),
		];
		this.record(`$ openssl ${this.argv.join(' ')}`);
		this.child = execa('openssl', this.argv, {stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: false, reject: false});
		options.onSpawn?.(this.child.pid);
		// A write after the child died must not crash the process: the next wait reports it.
		this.child.stdin?.on('error', () => {});
		this.child.stdout?.on('data', (chunk: Buffer) => this.take(chunk));
		// s_client's stderr: certificate lines (`depth=0 CN = …`) and errors are worth showing; it also
		// repeats stray reply lines there, which the S: lines already show.
		let errPartial = '';
		this.child.stderr?.on('data', (chunk: Buffer) => {
			const text = errPartial + chunk.toString('utf8');
			this.stderr += chunk.toString('utf8');
			const lines = text.split('\n');
			errPartial = lines.pop()!;
			for (const line of lines) if (/^depth=|error|errno|STARTTLS/i.test(line)) this.record(`openssl: ${line.trim()}`);
		});
		this.done = this.child.then(result => {
			this.exited = true;
			this.missing = (result as {code?: string}).code === 'ENOENT';
			this.flushPartial();
			this.wake?.();
		});
	}

	private record(line: string) {
		const shown = scrub(line, this.options.secrets ?? []);
		this.transcript.push(shown);
		this.options.onLine?.(shown);
	}

	private take(chunk: Buffer) {
		let data = Buffer.concat([this.partial, chunk]);
		for (;;) {
			if (this.literalLeft > 0) {
				const used = Math.min(this.literalLeft, data.length);
				this.literalLeft -= used;
				data = data.subarray(used);
				if (this.literalLeft > 0) break;
				continue;
			}
			const end = data.indexOf(0x0a);
			if (end < 0) break;
			const line = data.subarray(0, end).toString('utf8').replace(/\r$/, '');
			data = data.subarray(end + 1);
			this.received(line);
			// An IMAP literal: its bytes (a whole message) are not lines, and must not be mistaken for a tagged reply.
			const literal = this.options.protocol === 'imap' ? /\{(\d+)\}$/.exec(line) : null;
			if (literal) {
				this.literalLeft = Number(literal[1]);
				this.record(`S: [${this.literalLeft} bytes]`);
			}
		}
		this.partial = Buffer.from(data);
		this.wake?.();
	}

	private received(line: string) {
		// Masked before it is kept anywhere: a server that echoes a secret must not put it in a reply we hand on.
		const shown = scrub(line, this.options.secrets ?? []);
		this.pending.push(shown);
		this.record(`S: ${shown}`);
	}

	private flushPartial() {
		if (this.partial.length && this.literalLeft === 0) this.received(this.partial.toString('utf8').replace(/\r$/, ''));
		this.partial = Buffer.alloc(0);
	}

	/** Sends one line; `shown` is what the transcript gets (the caller masks the secret before it is ever recorded). */
	send(line: string, shown = line) {
		if (/[\r\n]/.test(line)) throw new Error('a command line cannot contain a line break');
		this.lastSent = shown;
		this.record(`C: ${shown}`);
		// -crlf turns this \n into \r\n.
		this.child.stdin?.write(`${line}\n`);
	}

	/** Waits for a complete SMTP reply (its final `ddd ` line); waitMs overrides the session's deadline. */
	async smtp(step: string, waitMs?: number): Promise<Reply> {
		const sent = this.lastSent;
		const lines = await this.waitFor(line => /^\d{3}( |$)/.test(line), step, waitMs);
		const last = lines.at(-1)!;
		return {lines, last, code: last.slice(0, 3), sent};
	}

	/** Waits for IMAP's untagged greeting (`* OK`), or the tagged status of command `tag`. */
	async imap(tag: string, step: string, waitMs?: number): Promise<Reply> {
		const final = tag === '*' ? /^\* (OK|NO|BAD|BYE|PREAUTH)\b/i : new RegExp(`^${tag} (OK|NO|BAD)\\b`, 'i');
		const sent = this.lastSent;
		const lines = await this.waitFor(line => final.test(line), step, waitMs);
		const last = lines.at(-1)!;
		return {lines, last, code: final.exec(last)![1]!.toUpperCase(), sent};
	}

	/** The step failed on what came back. */
	unexpected(step: string, reply: Reply, hint: string): StepError {
		return this.error('unexpected', step, reply.lines.join(' | '), hint, reply.sent);
	}

	private error(kind: Failure, step: string, got: string, hint: string, sent = this.lastSent): StepError {
		const secrets = this.options.secrets ?? [];
		return new StepError(kind, step, scrub(sent, secrets), scrub(got, secrets), scrub(hint, secrets));
	}

	private async waitFor(isFinal: (line: string) => boolean, step: string, waitMs = this.options.timeoutMs): Promise<string[]> {
		const deadline = Date.now() + waitMs;
		for (;;) {
			const at = this.pending.findIndex(isFinal);
			if (at >= 0) return this.pending.splice(0, at + 1);
			if (this.exited) throw this.ended(step);
			const left = deadline - Date.now();
			if (left <= 0) {
				this.stuck = true;
				const got = [...this.pending, this.partial.toString('utf8')].filter(Boolean).join(' | ');
				throw this.error('timeout', step, got, this.timeoutHint());
			}
			await new Promise<void>(resolve => {
				const timer = setTimeout(resolve, left);
				this.wake = () => {
					clearTimeout(timer);
					resolve();
				};
			});
			this.wake = undefined;
		}
	}

	/** Before the handshake s_client prints nothing; its verify lines (`depth=0 …`) show TLS got that far. */
	private get handshook(): boolean {
		return /^depth=/m.test(this.stderr);
	}

	private timeoutHint(): string {
		const secs = Math.round(this.options.timeoutMs / 100) / 10;
		if (this.handshook) return `the server accepted TLS but did not answer within ${secs} s: an overloaded or hung service, or slow DNS lookups on the server.`;
		return `nothing came back within ${secs} s before TLS was up: a firewall dropping packets, the wrong host or port, or a service that accepts and never answers.`;
	}

	/** Why the child ended while a reply was awaited, read from s_client's stderr. */
	private ended(step: string): StepError {
		const got = [...this.pending].join(' | ');
		const err = this.stderr;
		const where = connectArg(this.options.host, this.options.port);
		if (this.missing) return this.error('missing', step, '', 'this check drives `openssl s_client`: apt-get install openssl.');
		if (/Connection refused|errno=111/.test(err)) return this.error('refused', step, got, `nothing listens on ${where}: the service is not running, the port is not enabled (10-master.conf, master.cf), or a firewall rejects it.`);
		if (/Name or service not known|nodename nor servname|No address associated|BIO_lookup/i.test(err)) return this.error('unreachable', step, got, `the name ${this.options.host} does not resolve: check --check-host and DNS.`);
		if (/No route to host|Network is unreachable|errno=11[03]\b/.test(err)) return this.error('unreachable', step, got, `no route to ${where}: wrong address, or a firewall rejects it.`);
		if (!this.handshook && /error:|alert|Didn't find STARTTLS|write:errno/.test(err)) {
			const lines = err.split('\n').filter(line => /error:|alert|STARTTLS/.test(line)).map(line => line.replace(/^[0-9A-F]+:error:[0-9A-F]+:/, ''));
			const hint = this.options.starttls
				? 'the server did not offer STARTTLS or has no usable certificate (smtpd_tls_cert_file, smtpd_tls_key_file), or it rejected this client before TLS (a blacklist or postscreen).'
				: 'the port does not speak TLS (plain IMAP on 993?) or the service has no usable certificate (ssl_cert / ssl_server_cert_file, ssl_key).';
			return this.error('tls', step, [got, ...lines].filter(Boolean).join(' | '), hint);
		}
		return this.error('closed', step, got || this.partial.toString('utf8'), 'the service dropped the session: look at the mail log (Postfix: too many errors, a crash of smtpd; Dovecot: auth or mail process errors).');
	}

	/** Ends the session however it stands: the polite word if the server still talks, then EOF, then a kill. */
	async end(quit: string, waitReply: (session: Session) => Promise<unknown>): Promise<void> {
		// Skip the polite word when the check already said it (IMAP's own LOGOUT step).
		if (!this.exited && !this.stuck && !/^(\S+ )?(QUIT|LOGOUT)$/i.test(this.lastSent)) {
			try {
				this.send(quit);
				await waitReply(this);
			} catch {
				// Ending is best effort: the verdict was already reached.
			}
		}
		this.child.stdin?.end();
		// -quiet waits for the server to close after EOF: give it a moment, then kill.
		const grace = this.stuck ? 0 : Math.min(this.options.timeoutMs, 2000);
		let timer: NodeJS.Timeout | undefined;
		await Promise.race([this.done, new Promise(resolve => (timer = setTimeout(resolve, grace)))]);
		clearTimeout(timer);
		if (!this.exited) this.child.kill('SIGKILL');
		await this.done;
	}
}

/** Runs `work` in an SMTP or IMAP session and always ends it, whatever `work` throws. */
export async function withSession<T>(options: SessionOptions, work: (session: Session) => Promise<T>): Promise<T> {
	const session = new Session(options);
	try {
		return await work(session);
	} finally {
		if (options.protocol === 'smtp') await session.end('QUIT', s => s.smtp('QUIT'));
		else await session.end('Z LOGOUT', s => s.imap('Z', 'LOGOUT'));
	}
}
