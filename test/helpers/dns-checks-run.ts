// Runs the DNS checks with the options given as JSON in argv[2] and prints {ms, checks, records} as JSON:
// the tests start it inside a network namespace (`ip netns exec`), where the test DNS server is.
import {runDnsChecks} from '../../source/checks/dns.ts';

const started = Date.now();
const report = await runDnsChecks(JSON.parse(process.argv[2]!));
process.stdout.write(JSON.stringify({ms: Date.now() - started, ...report}));
