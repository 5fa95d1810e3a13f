// One figure group, in a process of its own (`node --import tsx bench/group.ts p6 [--quick]`): the local stack's
// handlers are module singletons bound to the first stack's engines, so each stack-based figure needs a fresh
// process. Prints what the group measured as one JSON object.
import { FIGURES } from './figures.js';

const [name, ...flags] = process.argv.slice(2);
const group = FIGURES.find((candidate) => candidate.name === name);
if (!group) {
  process.stderr.write(`unknown figure group: ${name}\n`);
  process.exit(2);
}
const measured = await group.run({ quick: flags.includes('--quick') });
process.stdout.write(`${JSON.stringify(measured)}\n`);
// Whatever the group left open (a lingering socket) does not keep the bench waiting.
process.exit(0);
