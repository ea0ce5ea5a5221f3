import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

describe('web console API types', () => {
  it('match the OpenAPI document the server builds (run `npm run ui:gen` after changing src/api/schemas/)', () => {
    const script = fileURLToPath(new URL('../scripts/gen-api-types.ts', import.meta.url));
    const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(
      r.status,
      0,
      r.stderr
        .split('\n')
        .filter((l) => l.includes('stale'))
        .join('\n') || r.stderr,
    );
  });
});
