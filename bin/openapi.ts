// `npm run openapi [-- --check]`: writes the API contract, openapi.json, and its reference page,
// docs/api-reference.html, from the schemas the functions parse with; --check writes nothing and fails when the
// committed files are not what the schemas generate now.
import { staleOpenApiFiles, writeOpenApiFiles } from './cli/openapi-files.js';

const USAGE = `Usage: npm run openapi [-- --check]

Writes openapi.json (the OpenAPI 3.1 document, served at GET /v1/openapi.json) and
docs/api-reference.html (its reference page, self-contained; http://localhost:3000/docs under npm start).

  --check    write nothing; exit 1 if a committed file differs from what would be written`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.some((arg) => arg !== '--check')) {
  console.log(USAGE);
  process.exit(args.includes('--help') ? 0 : 2);
}

if (args.includes('--check')) {
  const stale = staleOpenApiFiles();
  if (stale.length > 0) {
    console.error(`Not current: ${stale.join(', ')}. Run npm run openapi and commit the result.`);
    process.exit(1);
  }
  console.log('openapi.json and docs/api-reference.html are current.');
} else {
  for (const path of writeOpenApiFiles()) console.log(`wrote ${path}`);
}
