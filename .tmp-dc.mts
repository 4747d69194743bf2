import {inRoot} from '/work/main/test/helpers/roots.ts';
for (const rel of [12, 13] as const) {
  const r = await inRoot(rel, ['sh', '-c', "doveconf -d service/auth service/anvil 2>&1 | grep -E '^(service|  (user|unix_listener|    (mode|user|group))|})' | head -60"]);
  console.log(`== ${rel}\n${r.stdout}${r.stderr}`);
}
