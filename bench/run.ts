// `npm run bench`: the system's figures, measured on the local engines (no AWS). A readable table by default (figure,
// value, goal, met); `--json` prints one JSON object whose keys are the figures. `--only p2,p5` runs some of them
// (`otp` names the OTP-lane figures); `--quick` runs them at a smaller scale (the smoke test's). With `--json`, the
// progress and the table go to stderr.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { FIGURES, type Figure, type FigureGroup } from './figures.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});

const wanted = values.only
  ?.split(',')
  .map((name) => name.trim().toLowerCase())
  .filter(Boolean);
const unknown = wanted?.filter((name) => !FIGURES.some((group) => group.name === name)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(
    `unknown figure group(s): ${unknown.join(', ')}; known: ${FIGURES.map((g) => g.name).join(', ')}\n`,
  );
  process.exit(2);
}
const groups: FigureGroup[] = FIGURES.filter((group) => !wanted || wanted.includes(group.name));

const progress = (line: string) => process.stderr.write(`${line}\n`);

const run = promisify(execFile);
const GROUP_SCRIPT = fileURLToPath(new URL('./group.ts', import.meta.url));
/** Each group in a fresh Node process (see group.ts), with this one's Node and tsx. */
async function measure(group: FigureGroup): Promise<object> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', GROUP_SCRIPT, group.name, ...(values.quick ? ['--quick'] : [])],
    { maxBuffer: 16 << 20, timeout: 900_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as object;
}

const figures: Record<string, number> = {};
const rows: (Figure & { value: number })[] = [];
const details: string[] = [];
const failures: string[] = [];
for (const group of groups) {
  progress(`${group.name}: ${group.title}…`);
  const started = Date.now();
  try {
    const measured = await measure(group);
    for (const [key, value] of Object.entries(measured)) if (typeof value === 'number') figures[key] = value;
    for (const figure of group.figures) rows.push({ ...figure, value: figures[figure.key] ?? Number.NaN });
    if (group.details) details.push(`${group.name}:`, ...group.details(measured));
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    failures.push(`${group.name}: ${(error as Error).message}\n${stderr.slice(-2000)}`);
    for (const figure of group.figures) rows.push({ ...figure, value: Number.NaN });
  }
  progress(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

// The table goes to stdout, or to stderr beside the JSON (stdout stays one JSON object).
const out = values.json ? process.stderr : process.stdout;
const table = rows.map((row) => [
  row.key,
  Number.isFinite(row.value) ? String(row.value) : 'n/a',
  row.goal?.text ?? '',
  row.goal ? (Number.isFinite(row.value) && row.goal.met(row.value, figures) ? '✓' : '✗') : '',
  row.what,
]);
const widths = [0, 1, 2, 3].map((column) => Math.max(...table.map((cells) => cells[column]!.length)));
for (const cells of table) {
  out.write(
    `${cells[0]!.padEnd(widths[0]!)}  ${cells[1]!.padStart(widths[1]!)}  ${cells[2]!.padEnd(widths[2]!)}  ${cells[3]!.padEnd(widths[3]!)}  ${cells[4]}\n`,
  );
}
for (const line of details) out.write(`${line}\n`);
if (values.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
for (const failure of failures) process.stderr.write(`bench failure: ${failure}\n`);
process.exitCode = failures.length > 0 ? 1 : 0;
