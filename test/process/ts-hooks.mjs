// Node module hooks that run the project's TypeScript sources as they are, for the tests that start
// the gateway in a child process (a crash must kill a real process): `.js` imports of a source file
// resolve to its `.ts`, and `.ts` files are stripped of their types one by one by Vite's Oxc
// transform, as vitest does (types are checked by `npm run typecheck`, not here). TypeScript's own
// transpiler would do too, but loading it takes seconds.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transformWithOxc } from 'vite';

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent?.startsWith('file:') && !parent.includes('/node_modules/') && /^\.{1,2}\//.test(specifier) && specifier.endsWith('.js')) {
    const source = new URL(specifier.replace(/\.js$/, '.ts'), parent);
    if (existsSync(fileURLToPath(source))) return { url: source.href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.endsWith('.ts')) return nextLoad(url, context);
  const fileName = fileURLToPath(url);
  const { code } = await transformWithOxc(readFileSync(fileName, 'utf8'), fileName, { lang: 'ts', sourcemap: false });
  return { format: 'module', source: code, shortCircuit: true };
}
