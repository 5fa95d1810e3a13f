// `node --import tsx bin/phone-metadata.ts`: writes shared/domain/phone-metadata.ts and
// shared/domain/unreachable-number-ranges.ts from the installed libphonenumber-js's metadata (after an upgrade of the
// package; test/unit/phone.test.ts says when).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { phoneMetadataModule, unreachableRangesModule } from './cli/phone-metadata.js';

const { version } = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve('libphonenumber-js/package.json'), 'utf8'),
) as { version: string };
const files = {
  'phone-metadata.ts': phoneMetadataModule(version),
  'unreachable-number-ranges.ts': unreachableRangesModule(version),
};
for (const [name, text] of Object.entries(files)) {
  const file = fileURLToPath(new URL(`../shared/domain/${name}`, import.meta.url));
  writeFileSync(file, text);
  execFileSync('npx', ['biome', 'format', '--write', file], { stdio: 'inherit' });
  console.log(`wrote ${file}`);
}
