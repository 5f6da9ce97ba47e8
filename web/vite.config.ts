import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * The web pages, built at install (`npm run build:web`, part of `npm run build`) into dist/web,
 * which the gateway serves (src/routes/web.ts): `/` the try-the-bot page, `/console/` the console.
 * Everything a page needs is in the bundle: no CDN, and no inline script (the pages' CSP forbids it).
 */
export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [vue()],
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    // Staff use the browsers their office installs; Vite's default targets (2023 browsers) exclude some.
    target: 'es2020',
    rolldownOptions: {
      input: { try: here('index.html'), console: here('console/index.html') },
    },
  },
});
