/**
 * Runs the web console's component and unit tests (ui/src/**\/*.test.ts[x], beside the code
 * as in maas-ui) under the same node:test runner as everything else, in a jsdom window.
 */
import { globSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { installDom, registerTsx } from './support/ui-dom.ts';

installDom();
registerTsx();
const ui = fileURLToPath(new URL('../ui/src/', import.meta.url));
for (const file of globSync('**/*.test.{ts,tsx}', { cwd: ui }).sort()) {
  await import(pathToFileURL(`${ui}${file}`).href);
}
