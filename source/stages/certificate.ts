// Step 6: one pair for Dovecot and Postfix: RSA-4096 self-signed, made with node-forge on native crypto (the
// default), or Let's Encrypt's through certbot (--certificate letsencrypt; see letsencrypt.ts).
import {createPrivateKey, X509Certificate} from 'node:crypto';
import {issuerName} from '../checks/probe.js';
import type {Answers, Plan} from '../types.js';
import {CERTBOT_LOG, explainCertbot, hookFile, lineageDir, offerLetsEncrypt, planIssue, validateHook} from './letsencrypt.js';
import type {Stage, StageContext, Validation} from './stage.js';

type Forge = typeof import('node-forge');
const loadForge = async (): Promise<Forge> => ((await import('node-forge')) as unknown as {default: Forge}).default;

const DAY = 86_400_000;

/** What is wrong with a present pair for this FQDN; [] means keep it. Node's X509 reads RSA and ECDSA (certbot's default) alike. */
export function inspect(certPem: string | undefined, keyPem: string | undefined, fqdn: string, now = new Date()): string[] {
	if (!certPem) return ['no certificate yet'];
	if (!keyPem) return ['no private key yet'];
	let cert: X509Certificate;
	try {
		cert = new X509Certificate(certPem);
	} catch {
		return ['the present certificate cannot be read'];
	}
	const problems: string[] = [];
	// As mail clients check it (and the certificate-name check): SAN dNSName when present, else CN.
	if (!cert.checkHost(fqdn, {partialWildcards: false})) problems.push(`the present certificate is for ${namesOf(cert)}, not ${fqdn}`);
	const left = Math.floor((new Date(cert.validTo).getTime() - now.getTime()) / DAY);
	if (left < 30) problems.push(left < 0 ? 'the present certificate has expired' : `the present certificate expires in ${left} days`);
	try {
		if (!cert.checkPrivateKey(createPrivateKey(keyPem))) problems.push('the private key does not match the certificate');
	} catch {
		problems.push('the private key cannot be read');
	}
	return problems;
}

function namesOf(cert: X509Certificate): string {
	const dns = (cert.subjectAltName ?? '').split(', ').filter(name => name.startsWith('DNS:')).map(name => name.slice(4));
	return (dns.length ? dns : [/^CN=(.*)$/m.exec(cert.subject)?.[1] ?? 'no name']).join(', ');
}

/** A new pair: CN and SAN = FQDN, 365 days, SHA-256. */
export async function makePair(fqdn: string, now = new Date()): Promise<{cert: string; key: string}> {
	const forge = await loadForge();
	// The callback form uses Node's native generator without blocking the UI; never set usePureJavaScript.
	const keys = await new Promise<import('node-forge').pki.rsa.KeyPair>((resolve, reject) =>
		forge.pki.rsa.generateKeyPair({bits: 4096, e: 0x10001}, (error, pair) => (error ? reject(error) : resolve(pair))),
	);
	const cert = forge.pki.createCertificate();
	cert.publicKey = keys.publicKey;
	// Positive 128-bit serial: a leading 0 nibble keeps the DER integer positive.
	cert.serialNumber = '0' + forge.util.bytesToHex(forge.random.getBytesSync(16)).slice(1);
	cert.validity.notBefore = new Date(now.getTime() - 60_000);
	cert.validity.notAfter = new Date(now.getTime() + 365 * DAY);
	const subject = [{name: 'commonName', value: fqdn}];
	cert.setSubject(subject);
	cert.setIssuer(subject);
	cert.setExtensions([
		{name: 'basicConstraints', cA: false},
		{name: 'keyUsage', digitalSignature: true, keyEncipherment: true},
		{name: 'extKeyUsage', serverAuth: true},
		{name: 'subjectAltName', altNames: [{type: 2, value: fqdn}]},
	]);
	cert.sign(keys.privateKey, forge.md.sha256.create());
	return {cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey)};
}

async function currentProblems(ctx: StageContext, a: Answers): Promise<string[]> {
	return inspect(await ctx.host.read(a.cert), await ctx.host.read(a.key), a.fqdn);
}

/** Why a new pair: --renew, or what is wrong with the present one. */
const reasons = (a: Answers, problems: string[]) => (a.renew ? ['--renew asked for a new certificate'] : problems);

/** "issued by …, valid until …" for the preview; empty when the certificate cannot be read. */
async function describe(ctx: StageContext, path: string): Promise<string> {
	try {
		const cert = new X509Certificate((await ctx.host.read(path)) ?? '');
		return `issued by ${issuerName(cert)}, valid until ${new Date(cert.validTo).toISOString().slice(0, 10)}`;
	} catch {
		return '';
	}
}

async function planSelfSigned(ctx: StageContext): Promise<Plan> {
	const a = ctx.answers;
	const problems = await currentProblems(ctx, a);
	if (problems.length === 0 && !a.renew) return {files: [], commands: [], notes: [`${a.cert} is valid for ${a.fqdn}: kept (--renew makes a new one)`]};
	const why = reasons(a, problems);
	const {offer, note} = await offerLetsEncrypt(ctx.host, a);
	// A dry run shows what would be written without spending a second on a key nobody keeps.
	const pair = ctx.host.dryRun
		? {cert: `(a new self-signed RSA-4096 certificate for ${a.fqdn}, valid 365 days)\n`, key: '(a new RSA-4096 private key)\n'}
		: await makePair(a.fqdn);
	return {
		files: [
			{path: a.key, content: pair.key, mode: 0o600, owner: 'root', group: 'root', secret: true},
			{path: a.cert, content: pair.cert, mode: 0o644, owner: 'root', group: 'root'},
		],
		commands: [],
		notes: note ? [...why, note] : why,
		offer,
	};
}

/** certbot's lineage for the FQDN: used as is while it is fit (renewals are certbot's), else asked for. */
async function planLetsEncrypt(ctx: StageContext): Promise<Plan> {
	const a = ctx.answers;
	const hook = hookFile(a.fqdn);
	const problems = await currentProblems(ctx, a);
	if (problems.length === 0 && !a.renew) {
		const found = await describe(ctx, a.cert);
		return {files: [hook], commands: [], notes: [`${lineageDir(a.fqdn)} holds a certificate for ${a.fqdn}${found ? `, ${found}` : ''}: used as is, the CA is not asked (--renew asks for a new one)`]};
	}
	const lineageExists = Boolean(await ctx.host.info(lineageDir(a.fqdn)));
	return planIssue(ctx.host, a, lineageExists, hook, reasons(a, problems));
}

export const certificate: Stage = {
	id: 'certificate',
	title: 'TLS certificate',
	plan(ctx) {
		return ctx.answers.certificate === 'letsencrypt' ? planLetsEncrypt(ctx) : planSelfSigned(ctx);
	},
	async validate(ctx) {
		const problems = await currentProblems(ctx, ctx.answers);
		const pair: Validation = {command: 'read back the pair (node:crypto)', ok: problems.length === 0, problems, strict: true};
		return ctx.answers.certificate === 'letsencrypt' ? [await validateHook(ctx.host), pair] : [pair];
	},
	async explain(ctx, command, result) {
		if (command.argv[0] !== 'certbot') return undefined;
		return explainCertbot(result, await ctx.host.read(CERTBOT_LOG).catch(() => undefined), ctx.answers);
	},
};
