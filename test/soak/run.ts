// npm run soak -- [--notifications=10000] [--hours=72] [--seed=42] [--outage-start=H] [--outage-hours=6]
//                 [--circuit-cache-seconds=5] [--blip-after-recovery=SECONDS] [--json]
// npm run soak -- --release-scale=100000 [--tick-timeout=60] [--seed=42] [--json]
// The table goes to stdout and progress to stderr; with --json, stdout carries one JSON object and
// nothing else (`npm run -s soak -- --json` also silences npm's own banner). Exits 1 when a line is off.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_RELEASE_SCALE, runReleaseScale } from './release-scale.js';
import { formatReleaseScaleTable, formatSoakTable, releaseScaleJson, soakJson } from './report.js';
import { DEFAULT_SOAK, defaultOutageStart, runSoak } from './soak.js';

const USAGE = `Usage:
  npm run soak -- [--notifications=N] [--hours=H] [--seed=S] [--outage-start=H] [--outage-hours=H]
                  [--circuit-cache-seconds=S] [--blip-after-recovery=S] [--json]
  npm run soak -- --release-scale=N [--tick-timeout=SECONDS] [--seed=S] [--json]`;

const { values } = parseArgs({
  options: {
    notifications: { type: 'string' },
    hours: { type: 'string' },
    seed: { type: 'string' },
    'outage-start': { type: 'string' },
    'outage-hours': { type: 'string' },
    'circuit-cache-seconds': { type: 'string' },
    'blip-after-recovery': { type: 'string' },
    'release-scale': { type: 'string' },
    'tick-timeout': { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const number = z.coerce.number().nonnegative();
const flags = z
  .object({
    notifications: number.int().min(1).default(DEFAULT_SOAK.notifications),
    hours: number.min(1).default(DEFAULT_SOAK.hours),
    seed: number.int().default(DEFAULT_SOAK.seed),
    'outage-start': number.optional(),
    'outage-hours': number.default(DEFAULT_SOAK.outageHours),
    'circuit-cache-seconds': number.default(DEFAULT_SOAK.circuitCacheMs / 1000),
    'blip-after-recovery': number.optional(),
    'release-scale': number.int().min(1).optional(),
    'tick-timeout': number.min(1).default(DEFAULT_RELEASE_SCALE.tickTimeoutMs / 1000),
    json: z.boolean(),
  })
  .safeParse(values);
if (!flags.success) {
  console.error(flags.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n'));
  console.error(USAGE);
  process.exit(2);
}
const f = flags.data;
const progress = (line: string) => console.error(line);

async function main(): Promise<{ table: string; json: unknown; problems: string[] }> {
  if (f['release-scale'] !== undefined) {
    const result = await runReleaseScale({
      ...DEFAULT_RELEASE_SCALE,
      held: f['release-scale'],
      tickTimeoutMs: f['tick-timeout'] * 1000,
      seed: f.seed,
      progress,
    });
    const json = releaseScaleJson(result);
    return { table: formatReleaseScaleTable(result), json, problems: json.problems };
  }
  const result = await runSoak({
    ...DEFAULT_SOAK,
    notifications: f.notifications,
    hours: f.hours,
    seed: f.seed,
    outageStartHour: f['outage-start'] ?? defaultOutageStart(f.hours, f['outage-hours']),
    outageHours: f['outage-hours'],
    circuitCacheMs: f['circuit-cache-seconds'] * 1000,
    ...(f['blip-after-recovery'] !== undefined ? { blipAfterRecoveryMs: f['blip-after-recovery'] * 1000 } : {}),
    progress,
  });
  const json = soakJson(result);
  return { table: formatSoakTable(result), json, problems: json.problems };
}

const { table, json, problems } = await main();
if (f.json) {
  console.log(JSON.stringify(json, null, 2));
} else {
  console.log(table);
  console.log(problems.length > 0 ? `\nFAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}` : '\nAll lines ok.');
}
process.exitCode = problems.length > 0 ? 1 : 0;
