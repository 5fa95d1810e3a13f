// npm run soak -- [--notifications=10000] [--hours=72] [--seed=42] [--outage-start=20] [--outage-hours=6]
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_SOAK, formatSoakTable, runSoak, soakProblems } from './soak.js';

const { values } = parseArgs({
  options: {
    notifications: { type: 'string' },
    hours: { type: 'string' },
    seed: { type: 'string' },
    'outage-start': { type: 'string' },
    'outage-hours': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});
if (values.help) {
  console.log(
    'Usage: npm run soak -- [--notifications=N] [--hours=H] [--seed=S] [--outage-start=H] [--outage-hours=H]',
  );
  process.exit(0);
}
const number = (fallback: number) => z.coerce.number().nonnegative().default(fallback);
const flags = z
  .object({
    notifications: number(DEFAULT_SOAK.notifications).pipe(z.number().int().min(1)),
    hours: number(DEFAULT_SOAK.hours).pipe(z.number().min(1)),
    seed: number(DEFAULT_SOAK.seed).pipe(z.number().int()),
    'outage-start': number(DEFAULT_SOAK.outageStartHour),
    'outage-hours': number(DEFAULT_SOAK.outageHours),
  })
  .safeParse(values);
if (!flags.success) {
  console.error(flags.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n'));
  process.exit(2);
}
const f = flags.data;
const result = await runSoak({
  ...DEFAULT_SOAK,
  notifications: f.notifications,
  hours: f.hours,
  seed: f.seed,
  outageStartHour: f['outage-start'],
  outageHours: f['outage-hours'],
  progress: (line) => console.error(line),
});
console.log(formatSoakTable(result));
const problems = soakProblems(result);
if (problems.length > 0) {
  console.log(`\nFAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log('\nAll lines ok.');
