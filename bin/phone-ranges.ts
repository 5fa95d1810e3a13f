// `node --import tsx bin/phone-ranges.ts`: writes shared/domain/unreachable-number-ranges.ts from the installed
// libphonenumber-js's 'max' metadata (after an upgrade of the package; test/unit/phone.test.ts says when).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { unreachableRangesModule } from './cli/unreachable-ranges.js';

const file = fileURLToPath(new URL('../shared/domain/unreachable-number-ranges.ts', import.meta.url));
const { version } = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve('libphonenumber-js/package.json'), 'utf8'),
) as { version: string };
writeFileSync(file, unreachableRangesModule(version));
execFileSync('npx', ['biome', 'format', '--write', file], { stdio: 'inherit' });
console.log(`wrote ${file}`);
