// The reload stage's decision: restart or reload only what changed, start what is stopped.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';
import {withDefaults} from '../source/answers.ts';
import {apply, preview} from '../source/engine.ts';
import {Host} from '../source/host/host.ts';
import {decide, reason, type ServiceState} from '../source/stages/reload.ts';
import type {Stage} from '../source/stages/stage.ts';

const STARTED = Date.parse('2026-01-02T10:00:00Z');
const idle = (over: Partial<ServiceState> = {}): ServiceState => ({
	running: true,
	loadedAt: STARTED,
	changed: [],
	newest: {path: '/etc/x/old.conf', mtimeMs: STARTED - 60_000},
	...over,
});
const argv = (commands: {argv: string[]}[]) => commands.map(command => command.argv.join(' '));

test('nothing changed, both running: nothing runs', () => {
	assert.equal(reason(idle()), undefined);
	assert.deepEqual(decide(idle(), idle(), true, false), []);
	assert.deepEqual(decide(idle(), idle(), false, true), []);
});

test('a file this run changed: that service; a Dovecot restart reloads a running Postfix first', () => {
	const changed = idle({changed: ['/etc/dovecot/conf.d/10-master.conf']});
	assert.equal(reason(changed), '/etc/dovecot/conf.d/10-master.conf changed by this run');
	assert.equal(reason(idle({changed: ['/etc/postfix/main.cf', '/etc/postfix/master.cf']})), '2 of its files changed by this run');
	assert.deepEqual(argv(decide(idle(), changed, true, false)), ['systemctl reload postfix']);
	assert.deepEqual(argv(decide(idle(), changed, false, false)), ['postfix reload']);
	// Its smtpd processes let go of Dovecot's auth, so Dovecot's stop does not wait for them.
	const first = decide(changed, idle(), true, false);
	assert.deepEqual(argv(first), ['systemctl reload postfix', 'systemctl restart dovecot']);
	assert.match(first[0]!.why!, /smtpd processes let go of Dovecot's auth/);
	assert.deepEqual(argv(decide(changed, idle(), false, false)), ['postfix reload', 'dovecot stop', 'dovecot']);
	// A stopped Postfix has no smtpd: it is started because it is stopped.
	assert.deepEqual(argv(decide(changed, idle({running: false}), true, false)), ['systemctl restart postfix', 'systemctl restart dovecot']);
});

test('files newer than the running configuration (an interrupted run): restart or reload', () => {
	const stale = idle({newest: {path: '/etc/postfix/main.cf', mtimeMs: STARTED + 1}});
	assert.match(reason(stale)!, /main.cf is newer than the running configuration/);
	assert.deepEqual(argv(decide(stale, stale, true, false)), ['systemctl reload postfix', 'systemctl restart dovecot']);
	// Not known when the service read its files: only this run's changes count.
	assert.equal(reason(idle({loadedAt: undefined, newest: {path: '/etc/postfix/main.cf', mtimeMs: STARTED + 1}})), undefined);
});

test('stopped: started, whatever changed', () => {
	const stopped = idle({running: false, loadedAt: undefined});
	assert.equal(reason(stopped), 'not running');
	// Debian 12's postfix.service stays active while its instance is dead: restart, not start.
	assert.deepEqual(argv(decide(stopped, stopped, true, false)), ['systemctl restart postfix', 'systemctl restart dovecot']);
	assert.deepEqual(argv(decide(stopped, stopped, false, true)), ['/usr/lib/postfix/configure-instance.sh -', 'postfix start', 'dovecot']);
	assert.deepEqual(argv(decide(stopped, stopped, false, false)), ['postfix start', 'dovecot']);
});

test('OpenDKIM: restarted when its files changed or it is stopped, before Postfix reloads; left alone otherwise or where not installed', () => {
	const key = idle({changed: ['/etc/dkimkeys/mail.private']});
	const main = idle({changed: ['/etc/postfix/main.cf']});
	assert.deepEqual(argv(decide(idle(), main, true, false, key)), ['systemctl restart opendkim', 'systemctl reload postfix']);
	assert.deepEqual(argv(decide(idle(), main, false, false, key)), ['/etc/init.d/opendkim restart', 'postfix reload']);
	assert.deepEqual(argv(decide(idle(), idle(), true, false, idle({running: false}))), ['systemctl restart opendkim']);
	assert.deepEqual(decide(idle(), idle(), true, false, idle()), []);
	assert.deepEqual(argv(decide(idle(), main, true, false, undefined)), ['systemctl reload postfix']);
});

test('each command says why it runs', () => {
	for (const command of decide(idle({running: false}), idle({changed: ['/etc/ssl/private/k.key']}), true, false)) assert.ok(command.why, command.argv.join(' '));
});

test("a stage with run(): the result's commands are what run() ran, once; in a dry run, the plan's", async () => {
	const root = fs.mkdtempSync(path.join(os.tmpdir(), 'reload-'));
	const stage: Stage = {
		id: 'reload',
		title: 'x',
		plan: async () => ({files: [], commands: [{argv: ['systemctl', 'restart', 'dovecot']}, {argv: ['systemctl', 'reload', 'postfix']}], notes: []}),
		run: async () => ({ok: true, message: 'done', commands: ['systemctl reload postfix']}),
	};
	const answers = withDefaults({fqdn: 'mail.example.test'});
	const real = {answers, host: new Host({root})};
	assert.deepEqual((await apply(await preview(stage, real), real)).commands, ['systemctl reload postfix']);
	const dry = {answers, host: new Host({root, dryRun: true})};
	assert.deepEqual((await apply(await preview(stage, dry), dry)).commands, ['systemctl restart dovecot', 'systemctl reload postfix']);
	fs.rmSync(root, {recursive: true, force: true});
});
