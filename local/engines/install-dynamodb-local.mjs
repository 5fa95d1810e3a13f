#!/usr/bin/env node
// Fetches DynamoDB Local (the official emulator) from the npm registry. It ships inside
// amplify-dynamodb-simulator, whose own npm dependencies the jar does not need, so we
// `npm pack` the tarball and keep only its emulator/ folder. Best effort: without it the
// local stack and the tests fall back to dynalite (pure Node).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = 'amplify-dynamodb-simulator@2.9.30';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const target = join(root, '.cache', 'dynamodb-local');

if (existsSync(join(target, 'DynamoDBLocal.jar'))) process.exit(0);
const work = mkdtempSync(join(tmpdir(), 'ddb-local-'));
try {
  execFileSync('npm', ['pack', PACKAGE, '--silent', '--pack-destination', work], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack produced no tarball');
  execFileSync('tar', ['-xzf', join(work, tarball), '-C', work, 'package/emulator']);
  mkdirSync(dirname(target), { recursive: true });
  rmSync(target, { recursive: true, force: true });
  renameSync(join(work, 'package', 'emulator'), target);
  console.log(`DynamoDB Local installed in ${target}`);
} catch (error) {
  console.warn(`DynamoDB Local could not be installed (${error.message}); dynalite will be used instead.`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
