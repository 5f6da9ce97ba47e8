import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'test/artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/essential'],
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The web pages: Vue single-file components with TypeScript; vue-tsc (npm run typecheck) finds undefined names.
    files: ['web/**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] } },
    rules: { 'no-undef': 'off' },
  },
  {
    files: ['web/**/*.vue', 'web/**/*.ts'],
    rules: {
      // Everything user-supplied or from the knowledge is shown as text: markup in a question or an account name stays characters.
      'vue/no-v-html': 'error',
      'vue/no-v-text-v-html-on-component': 'error',
    },
  },
);
