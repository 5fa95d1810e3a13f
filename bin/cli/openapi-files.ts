// The contract's generated files, committed: openapi.json (the OpenAPI document, what GET /v1/openapi.json answers)
// and docs/api-reference.html (Redoc's reference page, self-contained: Redoc's standalone bundle and the document
// inline, nothing loaded from the network, so that it opens from the file system and behind any firewall).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../../shared/http/openapi.js';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const OPENAPI_DOCUMENT_FILE = 'openapi.json';
export const API_REFERENCE_FILE = 'docs/api-reference.html';

const REDOC_BUNDLE = 'redoc/bundles/redoc.standalone.js';

/**
 * What the page allows itself: its own inline script and styles (Redoc's styled components; ajv compiles schemas
 * with `new Function`), its search worker (a blob), inline images and fonts. Nothing else, so that nothing is
 * fetched: the only remote thing Redoc would load, the Redocly logo of its sidebar footer, is refused, and Redoc then
 * leaves it out.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'unsafe-inline' 'unsafe-eval'",
  "style-src 'unsafe-inline'",
  'img-src data:',
  'font-src data:',
  'worker-src blob:',
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * Text safe inside a <script> element: a `<` that would open `</script`, `<script` or `<!--` is written `\x3C`, the
 * same character in a JavaScript string, regular expression or JSON-in-JavaScript, but not markup to the HTML parser.
 */
const inScript = (code: string): string => code.replace(/<(?=\/?script|!--)/gi, '\\x3C');

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The reference page of `document`, with `redoc` (the standalone bundle's source) inline. */
export function apiReferencePage(document: { info: { title: string; version: string } }, redoc: string): string {
  const title = escapeHtml(`${document.info.title} ${document.info.version}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<title>${title}: reference</title>
<style>body { margin: 0; }</style>
</head>
<body>
<div id="redoc"></div>
<script>
${inScript(redoc)}
</script>
<script>
const spec = ${inScript(JSON.stringify(document))};
Redoc.init(spec, {}, document.getElementById('redoc'));
</script>
</body>
</html>
`;
}

/** Each generated file's path (from the project root) and the content it must have. */
export function renderOpenApiFiles(): Record<string, string> {
  const document = buildOpenApiDocument();
  const redoc = readFileSync(createRequire(import.meta.url).resolve(REDOC_BUNDLE), 'utf8');
  return {
    [OPENAPI_DOCUMENT_FILE]: `${JSON.stringify(document, null, 2)}\n`,
    [API_REFERENCE_FILE]: apiReferencePage(document, redoc),
  };
}

/** The generated files that are missing under `root` or differ from what the schemas generate now. */
export function staleOpenApiFiles(root = PROJECT_ROOT): string[] {
  return Object.entries(renderOpenApiFiles())
    .filter(([path, content]) => {
      try {
        return readFileSync(join(root, path), 'utf8') !== content;
      } catch {
        return true;
      }
    })
    .map(([path]) => path);
}

/** Writes the generated files under `root`; returns their paths. */
export function writeOpenApiFiles(root = PROJECT_ROOT): string[] {
  const files = Object.entries(renderOpenApiFiles());
  for (const [path, content] of files) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return files.map(([path]) => path);
}
